# space: autonumerics
# settings: {mantissa_bits: 24, target: log2, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: lm, fit_restarts: 1, ops: [add, sub, mul, fma], max_statements: 20, initial_statements: 2, new_constant_probability: 0.2, inherit_constants: true, grow_constant_weight: 0.0, probe_points: 16, constants_seed: 0, precision: float32, float32_check_points: 65536, float32_check_uniform: 1048576, float32_subnormal_inputs: true, timing_points: 100000, timing_repeats: 11, float32_refine_rounds: 50, float32_refine_below_ulp: 4.0}
# objectives: {max_ulp_error: 0.800489004701376, relative_time: 0.7740486231410896}
# constants: {c0: 0.002928689875735627, c1: -0.0046978365711381346, c2: 0.005748694172776385, c3: -0.009728108366896903, c4: 0.017101189450073266, c5: -0.029678530399009532, c6: 0.05281807581478301, c7: -0.09765257761159903, c8: 0.19131546896915144, c9: -0.4162566339015272, c10: 0.1699250013264388}
# fit start: {c0: 0.0028557129713456444, c1: -0.004694531957386517, c2: 0.0057941796314254085, c3: -0.009729963127218431, c4: 0.017091275259298412, c5: -0.02967818372044263, c6: 0.05281895670851595, c7: -0.09765260157522802, c8: 0.19131544163013992, c9: -0.4162566334554459, c10: 0.16992500146172648}
# float32 constants: {c0: 0.002935156924650073, c1: -0.004697360098361969, c2: 0.00574869429692626, c3: -0.009728108532726765, c4: 0.017100712284445763, c5: -0.029678501188755035, c6: 0.05281803011894226, c7: -0.09765257686376572, c8: 0.19131547212600708, c9: -0.4162566363811493, c10: 0.1699250042438507}
# found by: python scripts/find_float32.py --target log2: q of degree 10 in fma Horner form (13 ops in all), fitted from its least-squares start and refined on the float32 lattice on the space's 1,114,112 check points, 298 s on one core; max 0.800 ULP on them (jax.numpy.log2 2.290). Faithful over every one of the 8,388,609 float32 inputs in [1, 2]: max 0.856 ULP at x = 1.02141094 (jnp.log2 2.330); 2.02x jnp.log2's speed at 10^6 points on this CPU (250.8 vs 507.8 us, medians of 200 calls side by side, loadavg 6.0; scripts/bench_float32.py --target all --zoo --exhaustive --degrees --refined-degrees --points 1000000 --repeats 200, 2026-12-07, scripts/results/cpu_float32_2026-12-07_five_targets.jsonl). XLA on a CPU fuses a * b + c into one rounding (fma), which the constants were refined for; on a GPU, where XLA rounded it twice in an earlier check, this program was not run
# reproduce: automl reproduce search_spaces/autonumerics/discovered/log2_float32_fma_horner.dsl
t = x - 1.0
s = x - 1.5
h1 = fma(s, c0, c1)
h2 = fma(s, h1, c2)
h3 = fma(s, h2, c3)
h4 = fma(s, h3, c4)
h5 = fma(s, h4, c5)
h6 = fma(s, h5, c6)
h7 = fma(s, h6, c7)
h8 = fma(s, h7, c8)
h9 = fma(s, h8, c9)
q = fma(s, h9, c10)
f = fma(t, q, t)
