# space: autonumerics
# settings: {mantissa_bits: 24, target: exp2, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: lm, fit_restarts: 3, ops: [add, sub, mul, div, fma], max_statements: 16, initial_statements: 2, new_constant_probability: 0.5, inherit_constants: true, probe_points: 16, constants_seed: 0, precision: float64, float32_check_points: 65536, timing_points: 10000, timing_repeats: 31, float32_refine_rounds: 200}
# objectives: {max_relative_error: 9.64828217320246e-12, cost: 11.0}
# constants: {c0: -3.3749213674219964, c1: 0.3201896914319064, c2: 2.214862307378526, c3: 49.976064562228316, c4: 157.42560187705885, c5: 2.2595296780617424, c6: 1417.0375444555373, c7: -67893689.78531148, c8: 3.52066425844901e-09, c9: 10.535146363447192}
# fit start: {c0: -3.3749213674219964, c1: 0.3201896914319064, c2: 2.214862307378526, c3: 49.976064562228316, c4: 157.42560187705885, c5: 2.2595296780617424, c6: 1417.0375444555373, c7: -67893689.78531148, c8: 3.52066425844901e-09, c9: 10.535146363447192}
# found by: configs/autonumerics_exp2_hour.yaml --seed 2 (one CPU-hour, from random programs, fma in the ops, constants inherited, fit_solver lm), candidate 12468 of 15,722, at commit 2c193ce; 9.69e-12 also on 10,000 random points + a 2^16-point grid (scripts/autonumerics_front.py); the same nested squares with a shift and a final product (degree 10); the fit start recorded here is the fitted constants, from which it refits to the error above; beats the add+mul minimax polynomial at every cost up to 15 (4.0e-11 at 14), not at 16 (7.75e-13); re-measured when fma became a single rounding (evaluator 3; 9.64739399478276e-12 with a * b + c rounded twice)
# reproduce: automl reproduce search_spaces/autonumerics/discovered/exp2_cost11_nested_squares.dsl
t1 = x - c0
t7 = c1 * t1
t8 = fma(t7, t7, c2)
t2 = fma(t8, t8, c3)
t3 = c4 * t2
t5 = x * t2
t4 = fma(x, c5, c3)
f = fma(t2, t5, t3)
f = fma(c6, f, c7)
t6 = t4 * f
f = fma(t6, c8, c9)
