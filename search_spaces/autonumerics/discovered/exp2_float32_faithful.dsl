# space: autonumerics
# settings: {mantissa_bits: 24, target: exp2, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: lm, fit_restarts: 1, ops: [add, sub, mul, div, fma], max_statements: 12, initial_statements: 2, new_constant_probability: 0.5, inherit_constants: true, grow_constant_weight: 1.0, probe_points: 16, constants_seed: 0, precision: float32, float32_check_points: 65536, float32_check_uniform: 1048576, timing_points: 100000, timing_repeats: 11, float32_refine_rounds: 30, float32_refine_below_ulp: 1.5}
# objectives: {max_ulp_error: 0.8468880075961351, relative_time: 0.7090332213182498}
# constants: {c0: 0.6647289923511182, c1: 12.449075747401434, c2: 93.30672029706271, c3: 3.8381385807366035e-08, c4: 2.5514700221710564e-07, c5: 0.0005948244678548128, c6: 0.24022701290880782, c7: 0.6931471483584325, c8: 1.0000000003654763}
# fit start: {c0: 0.0, c1: 11.464280968644754, c2: 93.4026777505632, c3: 6.726074109806509e-08, c4: 3.256741549347811e-07, c5: 0.0005941181273320941, c6: 0.24022843382376038, c7: 0.6931470656594599, c8: 1.0000000010924757}
# float32 constants: {c0: 0.6647266149520874, c1: 12.449075698852539, c2: 93.30671691894531, c3: 3.838139406298069e-08, c4: 2.5514725621178513e-07, c5: 0.0005948247271589935, c6: 0.24022701382637024, c7: 0.6931471228599548, c8: 1.0}
# found by: configs/autonumerics_exp2_float32.yaml (seed 1, from random programs, float32 mode with 65,536 + 2^20 uniform check points and grow_constant_weight 1.0), at commit 89d0c20, candidate 3653 of 4,148 (2,340 evaluated), found after 2,811 s of one CPU-hour (first under 1 ULP on the check points after 153 s). A degree-9 polynomial in 8 ops. Faithful over every one of the 1,065,353,217 float32 inputs in [0, 1]: max 0.888 ULP (jnp.exp2 1.071; scripts/bench_float32.py --exhaustive); 0.852 on the 2^24-point grid. XLA on a CPU fuses a * b + c into one rounding (fma); XLA on an H200 rounded it twice in an earlier check, so these ULPs are the CPU's; this program was not run on a GPU
# reproduce: automl reproduce search_spaces/autonumerics/discovered/exp2_float32_faithful.dsl
t2 = fma(x, c0, c1)
t7 = fma(x, t2, c2)
t1 = x * t7
t6 = fma(x, c3, c4)
t5 = fma(t1, t6, c5)
t4 = fma(t1, t5, c6)
t3 = fma(x, t4, c7)
f = fma(x, t3, c8)
