# space: autonumerics
# settings: {mantissa_bits: 24, target: exp2, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: lm, fit_restarts: 3, ops: [add, sub, mul, div, fma], max_statements: 16, initial_statements: 2, new_constant_probability: 0.5, inherit_constants: true, grow_constant_weight: 1.0, probe_points: 16, constants_seed: 0, precision: float64, float32_check_points: 65536, float32_check_uniform: 10000, timing_points: 10000, timing_repeats: 31, float32_refine_rounds: 200, float32_refine_below_ulp: 64.0}
# objectives: {max_relative_error: 1.9843014035899179e-13, cost: 8.0}
# constants: {c0: 0.5825782446764001, c1: -17.004283993322026, c2: 221.81137603518536, c3: -1495.9112174914565, c4: 4317.968144608373, c5: 34.05539247389637, c6: 0.4037596402438522, c7: 2992.9874452887157, c8: 0.9999999999998018}
# fit start: {c0: 0.5825782446764001, c1: -17.004283993322026, c2: 221.81137603518536, c3: -1495.9112174914565, c4: 4317.968144608373, c5: 34.05539247389637, c6: 0.4037596402438522, c7: 2992.9874452887157, c8: 0.9999999999998018}
# found by: configs/autonumerics_exp2_hour.yaml (seed 2, from random programs, grow_constant_weight 1.0), at commit 89d0c20, candidate 4528 of 7,183 in one CPU-hour; 1.99e-13 on the validation points, where the minimax polynomial with fma reaches 7.75e-13 at cost 8 and the add+mul one 2.59e-6
# reproduce: automl reproduce search_spaces/autonumerics/discovered/exp2_cost8_fma_rational.dsl
t7 = fma(x, c0, c1)
t6 = fma(x, t7, c2)
t2 = fma(x, t6, c3)
t5 = fma(x, t2, c4)
t1 = x / t5
t4 = fma(x, c5, c6)
t3 = fma(x, t4, c7)
f = fma(t3, t1, c8)
