# space: autonumerics
# settings: {mantissa_bits: 24, target: exp2, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: trf, fit_restarts: 3, ops: [add, sub, mul, div], max_statements: 16, initial_statements: 2, probe_points: 16, constants_seed: 0, precision: float64, float32_check_points: 65536, timing_points: 10000, timing_repeats: 31}
# objectives: {max_relative_error: 4.535309017228428e-09, cost: 11.0}
# constants: {c0: 13.734853023918577, c1: 1.7849270968542188, c2: -97.55419897061547, c3: 0.00037311024976799536, c4: 21.48063735490663, c5: 153.16886530037647}
# fit start: {c0: 13.734853023918577, c1: 1.7849270968542188, c2: -97.55419897061547, c3: 0.00037311024976799536, c4: 21.48063735490663, c5: 153.16886530037647}
# beats: the minimax polynomial at cost 11 (degree 5, 7.49e-8) by 16.5x and the fitted rational minimax [3/2] (7.52e-9) by 1.7x; 4.54e-9 also on 10,000 random points + a 2^16-point grid (scripts/autonumerics_front.py)
# found by: configs/autonumerics_exp2_hour.yaml --seed 2 (one CPU-hour, from random programs), candidate 66840 of 67,569, at commit 222e431
# reproduce: automl reproduce search_spaces/autonumerics/discovered/exp2_cost11_rational.dsl
t5 = c0 - x
t8 = c1 * t5
t1 = c2 / t5
t11 = c3 * t5
t9 = c4 + t1
t6 = t8 - t9
t3 = t6 / t5
t2 = x + c5
t10 = t3 / t11
f = t6 + t10
f = f - t2
