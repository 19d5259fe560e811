# space: autonumerics
# settings: {mantissa_bits: 24, target: exp2, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: lm, fit_restarts: 3, ops: [add, sub, mul, div, fma], max_statements: 16, initial_statements: 2, new_constant_probability: 0.5, inherit_constants: true, grow_constant_weight: 1.0, probe_points: 16, constants_seed: 0, precision: float64, float32_check_points: 65536, float32_check_uniform: 10000, timing_points: 10000, timing_repeats: 31, float32_refine_rounds: 200, float32_refine_below_ulp: 64.0}
# objectives: {max_relative_error: 1.0759782333175157e-12, cost: 7.0}
# constants: {c0: 0.017243668519451888, c1: -0.5000027295665331, c2: 6.503052335478713, c3: -43.80330390880932, c4: 126.38961797291421, c5: 87.60660733825101, c6: 1.0000000000010743}
# fit start: {c0: 0.017243668519451888, c1: -0.5000027295665331, c2: 6.503052335478713, c3: -43.80330390880932, c4: 126.38961797291421, c5: 87.60660733825101, c6: 1.0000000000010743}
# found by: configs/autonumerics_exp2_hour.yaml (seed 2, from random programs, grow_constant_weight 1.0), at commit 89d0c20, candidate 6274 of 7,183 (4,267 evaluated) in one CPU-hour; 1.08e-12 on the validation points (10,000 random + a 2^16 grid against mpmath), where the minimax polynomial with fma reaches 4.02e-11 at cost 7 and the add+mul one 7.48e-5
# reproduce: automl reproduce search_spaces/autonumerics/discovered/exp2_cost7_fma_rational.dsl
t7 = fma(x, c0, c1)
t6 = fma(x, t7, c2)
t2 = fma(x, t6, c3)
t5 = fma(x, t2, c4)
t1 = x / t5
t3 = fma(x, x, c5)
f = fma(t3, t1, c6)
