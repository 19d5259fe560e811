# space: autonumerics
# settings: {mantissa_bits: 24, target: erf, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: lm, fit_restarts: 1, ops: [add, sub, mul, fma], max_statements: 20, initial_statements: 2, new_constant_probability: 0.2, inherit_constants: true, grow_constant_weight: 0.0, probe_points: 16, constants_seed: 0, precision: float32, float32_check_points: 65536, float32_check_uniform: 1048576, float32_subnormal_inputs: false, timing_points: 100000, timing_repeats: 11, float32_refine_rounds: 50, float32_refine_below_ulp: 4.0}
# objectives: {max_ulp_error: 0.8450881317257881, relative_time: 1.04723902447314}
# constants: {c0: 7.854023054919535e-05, c1: -0.0008010247779976356, c2: 0.005188334644757838, c3: -0.026853816216608893, c4: 0.11283585276265261, c5: -0.37612625840477265, c6: 0.1283791657325696}
# fit start: {c0: 7.898210205155983e-05, c1: -0.0008024354128133315, c2: 0.005190053577780157, c3: -0.02685480853719957, c4: 0.11283612428244617, c5: -0.37612628843325185, c6: 0.1283791665100522}
# float32 constants: {c0: 7.8539305832237e-05, c1: -0.0008010247838683426, c2: 0.005188334733247757, c3: -0.026853816583752632, c4: 0.1128358542919159, c5: -0.3761262595653534, c6: 0.12837916612625122}
# found by: python scripts/find_float32.py --target erf: q of degree 6 in fma Horner form, its last step split (9 ops in all), fitted from its least-squares start and refined on the float32 lattice on the space's 1,114,112 check points, 42 s on one core; max 0.845 ULP on them (jax.scipy.special.erf 3.508). Faithful over every one of the 1,056,964,610 float32 inputs in [0, 1] but the subnormal ones (XLA on a CPU flushes the 8,388,607 subnormal ones to zero: there every XLA function, jax.scipy.special.erf included, is ~9.5e6 ULPs off): max 0.885 ULP at x = 0.963173091 (jax.scipy.special.erf 4.002); 1.58x jax.scipy.special.erf's speed at 10^6 points on this CPU (194.9 vs 309.0 us, medians of 200 calls side by side, loadavg 8.1; scripts/bench_float32.py --target all --zoo --exhaustive --degrees --refined-degrees --points 1000000 --repeats 200, 2026-12-07, scripts/results/cpu_float32_2026-12-07_five_targets.jsonl). XLA on a CPU fuses a * b + c into one rounding (fma), which the constants were refined for; on a GPU, where XLA rounded it twice in an earlier check, this program was not run
# reproduce: automl reproduce search_spaces/autonumerics/discovered/erf_float32_fma_horner.dsl
u = x * x
h1 = fma(u, c0, c1)
h2 = fma(u, h1, c2)
h3 = fma(u, h2, c3)
h4 = fma(u, h3, c4)
a = fma(u, c5, c6)
u2 = u * u
q = fma(u2, h4, a)
f = fma(x, q, x)
