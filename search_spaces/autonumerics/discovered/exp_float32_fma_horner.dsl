# space: autonumerics
# settings: {mantissa_bits: 24, target: exp, grid_points: 1024, fit_constants: true, fit_method: lsq_minimax, fit_max_evaluations: 2000, fit_solver: lm, fit_restarts: 1, ops: [add, sub, mul, fma], max_statements: 20, initial_statements: 2, new_constant_probability: 0.2, inherit_constants: true, grow_constant_weight: 0.0, probe_points: 16, constants_seed: 0, precision: float32, float32_check_points: 65536, float32_check_uniform: 1048576, float32_subnormal_inputs: true, timing_points: 100000, timing_repeats: 11, float32_refine_rounds: 50, float32_refine_below_ulp: 4.0}
# objectives: {max_ulp_error: 0.7031830810010433, relative_time: 0.7144524361006612}
# constants: {c0: 0.0013843651908293049, c1: 0.008374155619347023, c2: 0.04166800204897079, c3: 0.1666643125915672, c4: 0.4999999420915643, c5: 1.0000000321673486}
# fit start: {c0: 0.001385929107717954, c1: 0.008374763974952598, c2: 0.04166772432092171, c3: 0.16666420945131935, c4: 0.49999995350994325, c5: 1.0000000360921266}
# float32 constants: {c0: 0.0013846817892044783, c1: 0.008374218828976154, c2: 0.04166795685887337, c3: 0.16666461527347565, c4: 0.4999999403953552, c5: 1.0}
# found by: python scripts/find_float32.py --target exp: q of degree 5 in fma Horner form (6 ops in all), fitted from its least-squares start and refined on the float32 lattice on the space's 1,114,112 check points, 67 s on one core; max 0.703 ULP on them (jax.numpy.exp 0.832). Faithful over every one of the 2,103,632,943 float32 inputs in [-0.34657359, 0.34657359]: max 0.715 ULP at x = -0.332522929 (jnp.exp 0.838); 2.41x jnp.exp's speed at 10^6 points on this CPU (167.9 vs 405.3 us, medians of 200 calls side by side, loadavg 5.9; scripts/bench_float32.py --target all --zoo --exhaustive --degrees --refined-degrees --points 1000000 --repeats 200, 2026-12-07, scripts/results/cpu_float32_2026-12-07_five_targets.jsonl). XLA on a CPU fuses a * b + c into one rounding (fma), which the constants were refined for; on a GPU, where XLA rounded it twice in an earlier check, this program was not run
# reproduce: automl reproduce search_spaces/autonumerics/discovered/exp_float32_fma_horner.dsl
h1 = fma(x, c0, c1)
h2 = fma(x, h1, c2)
h3 = fma(x, h2, c3)
h4 = fma(x, h3, c4)
q = fma(x, h4, c5)
f = fma(x, q, 1.0)
