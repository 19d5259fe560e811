# space: autonumerics
# settings: {mantissa_bits: 24, target: exp2, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: trf, fit_restarts: 3, ops: [add, sub, mul, div, fma], max_statements: 16, initial_statements: 2, new_constant_probability: 0.5, inherit_constants: true, probe_points: 16, constants_seed: 0, precision: float64, float32_check_points: 65536, timing_points: 10000, timing_repeats: 31}
# objectives: {max_relative_error: 7.469513896296576e-11, cost: 10.0}
# constants: {c0: 0.04065298308754764, c1: 0.37288040333703665, c2: 0.018472458150378825, c3: 1.8680381266555544, c4: 0.3255936159181397, c5: -0.3294611168645769, c6: 0.28210475354194814, c7: 1.0597551511853505, c8: -0.06726575942362739}
# fit start: {c0: 0.04065298308754764, c1: 0.37288040333703665, c2: 0.018472458150378825, c3: 1.8680381266555544, c4: 0.3255936159181397, c5: -0.3294611168645769, c6: 0.28210475354194814, c7: 1.0597551511853505, c8: -0.06726575942362739}
# found by: configs/autonumerics_exp2_hour.yaml --seed 1 (one CPU-hour, from random programs, fma in the ops, constants inherited), candidate 26970 of 27,001, at commit 6dc3a3b (its inherited fit start reached 7.48e-11 there, 7.63e-11 on an AMD EPYC: a local fit's path depends on the machine, so the fit start recorded here is the fitted constants, from which the fit reaches the 7.47e-11 above); 7.48e-11 also on 10,000 random points + a 2^16-point grid (scripts/autonumerics_front.py); beats the add+mul minimax polynomial at cost 10 (7.49e-8) by 1,000x, but not the fma-Horner minimax of degree 10 (4.2e-16)
# reproduce: automl reproduce search_spaces/autonumerics/discovered/exp2_cost10_fma_rational.dsl
t1 = fma(x, c0, c1)
t6 = x * c2
t8 = fma(t1, x, c3)
t3 = fma(t1, t8, c4)
t2 = c5 + t6
t10 = t8 - c6
t9 = x + c7
t4 = fma(t2, t9, c3)
t7 = t10 / t4
f = fma(t3, t7, c8)
