# space: autonumerics
# settings: {target: exp2, ops: [add, sub, mul, div], fit_constants: true, fit_solver: trf, max_statements: 16}
# objectives: {max_relative_error: 0.0002168555689077145, cost: 5}
# constants: {c0: -6.281613953679649, c1: -2.189098674204187, c2: -0.9998915663366165}
# fit start: {c0: -6.281613953679649, c1: -2.189098674204187, c2: -0.9998915663366165}
# beats: the minimax polynomial in Horner form, 1.725e-3 at cost 4 and 7.5e-5 at cost 6 (degrees 2, 3)
# found by: configs/autonumerics_exp2.yaml, seed 0, candidate 3764 of 1000 evaluations (NSGA-II, 44 s on 2 CPUs) at commit 398dbc9; the controller has since changed when cache hits join the population: today the same config ends at cost 5 with a different program, 2.67e-4
# reproduce: automl reproduce search_spaces/autonumerics/discovered/exp2_cost5_rational.dsl
t2 = x + c0
t3 = x / t2
t1 = c1 * t3
t4 = t1 - c2
f = t4 * t4
