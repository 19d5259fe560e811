# space: autonumerics
# settings: {mantissa_bits: 24, target: log, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: lm, fit_restarts: 1, ops: [add, sub, mul, fma], max_statements: 20, initial_statements: 2, new_constant_probability: 0.2, inherit_constants: true, grow_constant_weight: 0.0, probe_points: 16, constants_seed: 0, precision: float32, float32_check_points: 65536, float32_check_uniform: 1048576, float32_subnormal_inputs: true, timing_points: 100000, timing_repeats: 11, float32_refine_rounds: 50, float32_refine_below_ulp: 4.0}
# objectives: {max_ulp_error: 0.8425627648830414, relative_time: 0.7705572417395076}
# constants: {c0: 2.1770712742116016, c1: 3.661603541035481, c2: 3.2174755719312116, c3: 1.34237814433303, c4: 0.5689710591894914, c5: -0.08947506006594395, c6: 0.20851203220877956, c7: -0.2494666255324572, c8: 0.33334974867563183, c9: -0.4999998261354288}
# fit start: {c0: 2.1285724623305398, c1: 3.542603363549599, c2: 3.0937906408150075, c3: 1.2715191390493423, c4: 0.5445889950757045, c5: -0.09462123153959485, c6: 0.20786006499448784, c7: -0.24951290334824652, c8: 0.33334816546835955, c9: -0.49999984409687254}
# float32 constants: {c0: 2.1770713329315186, c1: 3.6616034507751465, c2: 3.217475652694702, c3: 1.3423781394958496, c4: 0.5689710378646851, c5: -0.08947499841451645, c6: 0.20851203799247742, c7: -0.24946662783622742, c8: 0.3333497643470764, c9: -0.4999998211860657}
# found by: python scripts/find_float32.py --target log: q of degree 9 in fma Horner form (12 ops in all), fitted from its least-squares start and refined on the float32 lattice on the space's 1,114,112 check points, 77 s on one core; max 0.843 ULP on them (jax.numpy.log 1.164). Faithful over every one of the 8,388,609 float32 inputs in [0.5, 1]: max 0.851 ULP at x = 0.621376097 (jnp.log 1.192); 1.46x jnp.log's speed at 10^6 points on this CPU (423.7 vs 619.5 us, medians of 200 calls side by side, loadavg 6.1; scripts/bench_float32.py --target all --zoo --exhaustive --degrees --refined-degrees --points 1000000 --repeats 200, 2026-12-07, scripts/results/cpu_float32_2026-12-07_five_targets.jsonl). XLA on a CPU fuses a * b + c into one rounding (fma), which the constants were refined for; on a GPU, where XLA rounded it twice in an earlier check, this program was not run
# reproduce: automl reproduce search_spaces/autonumerics/discovered/log_float32_fma_horner.dsl
t = x - 1.0
h1 = fma(t, c0, c1)
h2 = fma(t, h1, c2)
h3 = fma(t, h2, c3)
h4 = fma(t, h3, c4)
h5 = fma(t, h4, c5)
h6 = fma(t, h5, c6)
h7 = fma(t, h6, c7)
h8 = fma(t, h7, c8)
q = fma(t, h8, c9)
v = t * q
f = fma(t, v, t)
