# space: autonumerics
# settings: {mantissa_bits: 24, target: exp2, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: trf, fit_restarts: 3, ops: [add, sub, mul, div], max_statements: 16, initial_statements: 2, new_constant_probability: 0.5, probe_points: 16, constants_seed: 0, precision: float64, float32_check_points: 65536, timing_points: 10000, timing_repeats: 31}
# objectives: {max_relative_error: 1.62827588079395e-08, cost: 10.0}
# constants: {c0: -0.4692875347286954, c1: -35.34993226096114, c2: -227.66158227147417, c3: -178.42414270833555, c4: 4.636088930421638, c5: -3.9153711350319425, c6: 0.9410831827128907}
# fit start: {c0: -0.4692875347286954, c1: -35.34993226096114, c2: -227.66158227147417, c3: -178.42414270833555, c4: 4.636088930421638, c5: -3.9153711350319425, c6: 0.9410831827128907}
# beats: the minimax polynomial at cost 10 (degree 5, 7.49e-8) by 4.6x; 1.63e-8 also on 10,000 random points + a 2^16-point grid (scripts/autonumerics_front.py)
# found by: configs/autonumerics_exp2_hour.yaml with new_constant_probability 0.5 and max_seconds 1500, --seed 1 (25 CPU-minutes, from random programs), candidate 50766 of 56,185, after 1,300 s, at commit e01fac0
# reproduce: automl reproduce search_spaces/autonumerics/discovered/exp2_cost10_squared.dsl
t5 = x * c0
t8 = x * c1
t2 = t8 - c2
t4 = c3 / t2
t3 = c4 + t4
t10 = c5 + t3
t9 = t3 * t10
t6 = t9 * t9
t1 = c6 + t6
f = t1 - t5
