# space: autonumerics
# settings: {mantissa_bits: 24, target: exp2, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: lm, fit_restarts: 3, fit_least_squares_evaluations: 20, ops: [add, mul, fma], max_statements: 16, initial_statements: 2, new_constant_probability: 0.5, inherit_constants: true, grow_constant_weight: 1.0, probe_points: 16, constants_seed: 0, precision: float64, float32_check_points: 65536, float32_check_uniform: 10000, float32_subnormal_inputs: true, timing_points: 10000, timing_repeats: 31, float32_refine_rounds: 200, float32_refine_below_ulp: 64.0}
# objectives: {max_relative_error: 2.853635427016655e-16, cost: 10.0}
# constants: {c0: 1.293064549303201e-09, c1: 2.4281092683476534e-08, c2: 5.487272332172264e-07, c3: 1.0210936512987726e-05, c4: 0.00016204795329664937, c5: 0.002111738774081374, c6: 0.021265757822580646, c7: 0.15243614181008847, c8: 0.6863252671981362, c9: 1.4570350936989596}
# fit start: {c0: 0.0, c1: 3.189739856979028e-08, c2: 5.270990779598198e-07, c3: 1.0252735392916934e-05, c4: 0.00016198151446789172, c5: 0.00211183670945419, c6: 0.021265616111452508, c7: 0.15243634589559105, c8: 0.686324983736616, c9: 1.4570356954742127}
# found by: configs/autonumerics_exp2_paper_ops.yaml (seed 2, from random programs, 1,500 s pinned to one core, at commit ad183fa), candidate 8,295 of 13,746; 3.61e-16 on the validation points (10,000 random + a 2^16 grid against mpmath), where best_classical with the same ops reaches 4.23e-16 at cost 10; the paper's own 10-op program: ~5.4e-15
# reads: with q a degree-8 Horner chain, f = q (x q + c9) = x q^2 + c9 q
# reproduce: automl reproduce search_spaces/autonumerics/discovered/exp2_paper_ops_cost10.dsl
t9 = fma(x, c0, c1)
t8 = fma(x, t9, c2)
t7 = fma(x, t8, c3)
t5 = fma(x, t7, c4)
t6 = fma(x, t5, c5)
t4 = fma(x, t6, c6)
t3 = fma(x, t4, c7)
t2 = fma(x, t3, c8)
t1 = fma(x, t2, c9)
f = t2 * t1
