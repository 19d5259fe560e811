# space: autonumerics
# settings: {mantissa_bits: 24, target: exp2, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: lm, fit_restarts: 3, ops: [add, sub, mul, div, fma], max_statements: 16, initial_statements: 2, new_constant_probability: 0.5, inherit_constants: true, grow_constant_weight: 1.0, probe_points: 16, constants_seed: 0, precision: float64, float32_check_points: 65536, float32_check_uniform: 10000, timing_points: 10000, timing_repeats: 31, float32_refine_rounds: 200, float32_refine_below_ulp: 64.0}
# objectives: {max_relative_error: 4.4406303338281296e-16, cost: 10.0}
# constants: {c0: -5496.728994240995, c1: 6.27163300702608, c2: 4860968.480995962, c3: -126403128.85198624, c4: 1581285312.8499467, c5: -10530776213.03753, c6: 30385397238.645435, c7: 252806261.46725926, c8: 21061552426.16226, c9: 0.9999999999999997}
# fit start: {c0: -5496.728994240995, c1: 6.27163300702608, c2: 4860968.480995962, c3: -126403128.85198624, c4: 1581285312.8499467, c5: -10530776213.03753, c6: 30385397238.645435, c7: 252806261.46725926, c8: 21061552426.16226, c9: 0.9999999999999997}
# found by: configs/autonumerics_exp2_hour.yaml (seed 2, from random programs, grow_constant_weight 1.0), at commit 89d0c20, candidate 7094 of 7,183, found after 3,575 s of the hour (campaign fit 4.45e-16; refit from its constants 4.44e-16, recorded here so that reproduce is a fixed point); 5.28e-16 on the validation points, against 7.49e-8 for the add+mul minimax polynomial at cost 10, 4.23e-16 for the minimax polynomial with fma (degree 10) and 5.4e-15 for the AutoNumerics-Zero paper's cost-10 program. Replaces a 7.47e-11 quotient found without grow_constant
# reproduce: automl reproduce search_spaces/autonumerics/discovered/exp2_cost10_fma_rational.dsl
t10 = fma(x, c0, c1)
t2 = fma(x, t10, c2)
t8 = fma(x, t2, c3)
t7 = fma(x, t8, c4)
t6 = fma(x, t7, c5)
t3 = fma(x, t6, c6)
t1 = x / t3
t9 = x * c7
t4 = fma(x, t9, c8)
f = fma(t1, t4, c9)
