# space: autonumerics
# settings: {target: exp2, ops: [add, sub, mul, div], fit_constants: true, fit_solver: trf, max_statements: 16}
# objectives: {max_relative_error: 0.0008673944276412771, cost: 4}
# constants: {c0: -3.4070820302796663, c1: 0.4140031032602347, c2: -2.4133456916247376}
# fit start: {c0: -3.4070820302796663, c1: 0.4140031032602347, c2: -2.4133456916247376}
# beats: the minimax polynomial in Horner form, 1.725e-3 (degree 2, cost 4)
# found by: configs/autonumerics_exp2.yaml, seed 0, candidate 3436 of 1000 evaluations (NSGA-II, 44 s on 2 CPUs) at commit 398dbc9; the controller has since changed when cache hits join the population: today the same config reaches this function at candidate 4711
# reproduce: automl reproduce search_spaces/autonumerics/discovered/exp2_cost4_rational.dsl
t2 = x + c0
t3 = x / t2
t4 = t3 - c1
f = c2 * t4
