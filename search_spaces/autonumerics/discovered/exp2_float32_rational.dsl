# space: autonumerics
# settings: {mantissa_bits: 24, target: exp2, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: lm, fit_restarts: 1, ops: [add, sub, mul, div, fma], max_statements: 12, initial_statements: 2, new_constant_probability: 0.5, inherit_constants: true, probe_points: 16, constants_seed: 0, precision: float32, float32_check_points: 65536, timing_points: 100000, timing_repeats: 11, float32_refine_rounds: 50, float32_refine_below_ulp: 4.0}
# objectives: {max_ulp_error: 0.7521807719022036, relative_time: 0.6164472136444402}
# constants: {c0: 0.0003064974108249495, c1: -0.003995873450146184, c2: -0.2306272152384115, c3: 1.6560363384421866, c4: -0.04038101963759339, c5: -0.7610518044153705, c6: -0.0002062576084894546, c7: 0.9131029629656118, c8: 1.000355471484105}
# fit start: {c0: 0.0, c1: -0.003994196150236894, c2: -0.23104196280837933, c3: 1.6581720814473018, c4: -0.029750741796902395, c5: -0.7520103999509391, c6: -0.00016341403573454333, c7: 0.9097925279908432, c8: 1.000113269854227}
# float32 constants: {c0: 0.0003064833872485906, c1: -0.003995895851403475, c2: -0.23062720894813538, c3: 1.656036376953125, c4: -0.04038103297352791, c5: -0.7610518336296082, c6: -0.0002062805142486468, c7: 0.9131029844284058, c8: 1.0003554821014404}
# found by: configs/autonumerics_exp2_float32.yaml (seed 1, from random programs, float32 mode: max ULP error on 65,536 + 10,000 float32 points and XLA time beside jnp.exp2), candidate 24502 of 28,374 (10,678 evaluated), first under 1 ULP after 1,059 s on one core, at commit b11794e; stopped by Ctrl-C after 1,786 s of its 3,600. Faithful (< 1 ULP) on the search's check points only: 1.080 ULP on scripts/bench_float32.py's 2^24-point grid (jnp.exp2 1.058) and 1.133 over every one of the 1,065,353,217 float32 inputs in [0, 1] (jnp.exp2 1.071); refining its float32 constants on 1.3 million points gets 0.988 on the grid and 1.034 over all inputs, and exchanging the worst inputs into the refinement set did not go below 1.03. XLA on a CPU fuses a * b + c into one rounding, as fma; on an H200 it rounds twice and this program is 1.22 ULP there. 0.62x jnp.exp2's time at 10^5 points in the search; 0.68x at 10^6, 1.08x at 10^4 in bench_float32 (dispatch-bound there)
# reproduce: automl reproduce search_spaces/autonumerics/discovered/exp2_float32_rational.dsl
t8 = x - c0
t5 = fma(c1, t8, c2)
t3 = fma(t5, t8, c3)
t7 = fma(t3, t3, c4)
t6 = c5 + t8
t1 = c5 - t7
t2 = c6 + t8
f = t6 / t1
t4 = c7 - f
f = fma(t2, t4, c8)
