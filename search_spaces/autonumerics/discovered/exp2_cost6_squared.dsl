# space: autonumerics
# settings: {mantissa_bits: 24, target: exp2, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: trf, fit_restarts: 3, ops: [add, sub, mul, div], max_statements: 16, initial_statements: 2, probe_points: 16, constants_seed: 0, precision: float64, float32_check_points: 65536, timing_points: 10000, timing_repeats: 31}
# objectives: {max_relative_error: 3.9744888729217405e-07, cost: 6.0}
# constants: {c0: -9.193141065336963, c1: -10.107069799036614, c2: -44.19490291610276, c3: 5.100756242013011}
# fit start: {c0: -9.193141065336963, c1: -10.107069799036614, c2: -44.19490291610276, c3: 5.100756242013011}
# beats: the minimax polynomial at cost 6 (degree 3), 7.48e-5, by 188x; 3.97e-7 also on 10,000 random points + a 2^16-point grid (scripts/autonumerics_front.py)
# found by: configs/autonumerics_exp2_hour.yaml --seed 1 (one CPU-hour, from random programs), candidate 67493 of 72,420, at commit e5f6c9d
# reproduce: automl reproduce search_spaces/autonumerics/discovered/exp2_cost6_squared.dsl
t1 = x + c0
t4 = c1 - t1
f = c2 / t1
t3 = c3 - f
f = t3 * t3
f = f - t4
