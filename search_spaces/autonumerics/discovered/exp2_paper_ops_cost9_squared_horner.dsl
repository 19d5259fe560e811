# space: autonumerics
# settings: {mantissa_bits: 24, target: exp2, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: lm, fit_restarts: 3, fit_least_squares_evaluations: 20, ops: [add, mul, fma], max_statements: 16, initial_statements: 2, new_constant_probability: 0.5, inherit_constants: true, grow_constant_weight: 1.0, probe_points: 16, constants_seed: 0, precision: float64, float32_check_points: 65536, float32_check_uniform: 10000, float32_subnormal_inputs: true, timing_points: 10000, timing_repeats: 31, float32_refine_rounds: 200, float32_refine_below_ulp: 64.0}
# objectives: {max_relative_error: 3.3306472590315935e-15, cost: 9.0}
# constants: {c0: 6.133752845410023e-09, c1: 1.1730579149559566e-07, c2: 2.4086831266698653e-06, c3: 4.166626614053967e-05, c4: 0.0006011334472061696, c5: 0.006938013510650591, c6: 0.06005662674670464, c7: 0.34657359027971835, c8: 1.0000000000000016}
# fit start: {c0: 1.293064549303201e-09, c1: 2.4281092683476534e-08, c2: 5.487272332172264e-07, c3: 1.0210936512987726e-05, c4: 0.00016204795329664937, c5: 0.002111738774081374, c6: 0.021265757822580646, c7: 0.15243614181008847, c8: 0.6863252671981362}
# found by: configs/autonumerics_exp2_paper_ops.yaml (seed 2, from random programs, 1,500 s pinned to one core, at commit ad183fa), candidate 13,371 of 13,746; 3.41e-15 on the validation points (10,000 random + a 2^16 grid against mpmath), where best_classical with the same ops (the minimax polynomial with fma) reaches 1.36e-14 at cost 9; the paper's own 10-op program: ~5.4e-15
# reads: f = q(x)^2 with q a degree-8 Horner chain of fmas approximating 2^(x/2): one multiply buys the squaring identity 2^x = (2^(x/2))^2
# reproduce: automl reproduce search_spaces/autonumerics/discovered/exp2_paper_ops_cost9_squared_horner.dsl
t9 = fma(x, c0, c1)
t8 = fma(x, t9, c2)
t7 = fma(x, t8, c3)
t5 = fma(x, t7, c4)
t6 = fma(x, t5, c5)
t4 = fma(x, t6, c6)
t3 = fma(x, t4, c7)
t2 = fma(x, t3, c8)
f = t2 * t2
