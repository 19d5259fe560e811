# space: optimizers
# settings: {mantissa_bits: 24, tasks: [mlp_mnist1d, cnn_digits_shift], funnel_tasks: [mlp_mnist1d_x, cnn_digits_shift_x], learning_rates: [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1], max_statements: 30, max_constants: 8, hash_steps: 4, init_seed: 0, funnel_gates_score: true, reference_weight_decays: [0.0], weight_decays: [0.0, 0.1], lr_schedule: warmup_cosine, gradient_clip: null, score: worst_task, program_batching: auto}
# objectives: {loss_mlp_mnist1d: 1.099534034729004, loss_cnn_digits_shift: 0.15595072507858276, score: 0.9589657647238262}
# proxy: worst ratio to AdamW tuned over the same 6 rates x decoupled decays {0, 0.1} (warmup-cosine), 0.959: mlp_mnist1d 1.0995 vs 1.1466, cnn_digits_shift 0.1560 vs 0.1715; funnel passed (mlp_mnist1d_x 0.958, cnn_digits_shift_x 0.080)
# held out (scripts/meta_validate.py --references adamw --program found=FILE --decays 0 0.01 0.1: both tuned over 8 rates 1e-4..0.3 x decays {0, 0.01, 0.1}, warmup-cosine, init seeds 0-3; geometric mean of the per-seed loss ratio to tuned AdamW, [95% bootstrap] t[95% Student-t]; 2026-12-08, one core): char_lm 0.982 [0.925, 1.035] t[0.888, 1.086]; cnn1d_mnist1d 0.885 [0.864, 0.904] t[0.846, 0.925]; mlp_mnist1d_deep 0.975 [0.955, 0.997] t[0.938, 1.013]; cnn_digits_shift_wide 0.850 [0.777, 0.901] t[0.735, 0.984]; all four 0.921 [0.897, 0.942] t[0.888, 0.955]; below 1 on all 4 tasks and on 13 of the 16 (task, seed) pairs (scripts/results/optimizer_heldout_2026-12-08_cpu_adamw_short_momentum.json)
# found by: configs/optimizer_minibatch.yaml (one CPU core, 3,600 s), seed 0, candidate 230 of 2,952 (made 170 s in; 2,244 evaluated, 13.2% cache hits); code at 66230ca with the config as committed in 62b7e91
# reads: AdamW (b2 0.999, eps 1e-8) with the first moment's rate 0.648 instead of 0.9, its first bias correction 1 - e^(-1.56 t) instead of 1 - 0.9^t (~1 after a few steps), and a decoupled weight decay of 0.01 of its own besides the grid's
# ablation: AdamW with b1 0.648 alone (scripts/results/adamw_b1_0648_ablation.dsl, same command) is 0.944x tuned AdamW held out, t[0.899, 0.991], all 4 tasks won (char_lm 0.980, cnn1d_mnist1d 0.850, mlp_mnist1d_deep 0.968, cnn_digits_shift_wide 0.986); this program is 0.976x that ablation, t[0.953, 0.999], ahead of it on cnn_digits_shift_wide only (0.863x): most of the gain is the first moment's rate, which the reference is not tuned over
# against AdamW tuned over b1 {0.65, 0.8, 0.9} as well (scripts/meta_validate.py --references adamw --adamw-b1s 0.65 0.8 0.9 --decays 0 0.01 0.1, otherwise as above; 2026-12-08, two cores, --jobs 2): char_lm 1.016 t[0.950, 1.087]; cnn1d_mnist1d 1.023 t[0.978, 1.069]; mlp_mnist1d_deep 1.006 t[0.983, 1.029]; cnn_digits_shift_wide 0.929 t[0.859, 1.004]; all four 0.993 t[0.964, 1.022], 1 task of 4 won: no better than AdamW once its b1 is tuned. b1-tuned AdamW is itself 0.920x AdamW with b1 0.9 on these tasks and grid, all of this program's gain over it; b1 0.65 is chosen on 9 of the 16 (task, seed) pairs, 0.8 on 5, 0.9 on 2 (scripts/results/optimizer_heldout_2026-12-08_cpu_short_momentum_vs_b1_tuned_adamw.json). The reference is tuned over 3x the configurations the program is, which favours it slightly on seed noise
# reproduce: automl reproduce search_spaces/optimizers/discovered/adamw_short_momentum.dsl
m = interp(g, m, 0.6483509815780549)
t1 = square(g)
v = interp(t1, v, 0.999)
t2 = t * (-1.5588973008294218)
t3 = exp(t2)
t4 = 1.0 - t3
m_hat = m / t4
t5 = t * (-0.0010005003335835344)
t6 = exp(t5)
t7 = 1.0 - t6
v_hat = v / t7
t8 = sqrt(v_hat)
update = m_hat / t8
t9 = w * 0.01
update = update + t9
update = lr * update
