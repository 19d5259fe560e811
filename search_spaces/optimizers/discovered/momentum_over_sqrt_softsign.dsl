# space: optimizers
# settings: {mantissa_bits: 24, tasks: [logreg_digits, mlp_digits, linreg_noisy, spirals], funnel_tasks: [mlp_digits_x10, spirals_x10], learning_rates: [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1], max_statements: 30, max_constants: 8, hash_steps: 4, init_seed: 0, funnel_gates_score: true, reference_weight_decays: [0.01, 0.03, 0.1], score: worst_task, program_batching: auto, lr_schedule: constant}
# objectives: {loss_logreg_digits: 0.08648602664470673, loss_mlp_digits: 0.047333333641290665, loss_linreg_noisy: 0.29177746176719666, loss_spirals: 0.010887745767831802, score: 1.0407117392479182}
# proxy: validation loss against AdamW tuned over rate and weight decay 0.01/0.03/0.1: logreg_digits 0.0865 vs 0.1013, mlp_digits 0.0473 vs 0.0575, spirals 0.0109 vs 0.0212, linreg_noisy 0.2918 vs 0.2804 (its worst task, hence score 1.041: not a proxy winner, so never funnel-tested)
# held out: beats AdamW tuned over rate and decay 0.01/0.03/0.1 on 2 of 4 meta-validation tasks (spirals_deep 0.00014 vs 0.0019; linreg_large 0.279448 vs 0.279474, by 0.01%), loses convnet_digits 0.096 vs 0.046 and mlp_digits_wide 0.0723 vs 0.0555; against AdamW with decay 0.01, 3 of 4 (scripts/meta_validate.py)
# held out over init seeds 0-3, both it and AdamW tuned over rate x decoupled decay 0-1 (meta_validate.py --init-seeds 0 1 2 3, 2026-12-06): 1 of 4, spirals_deep (geometric mean 0.47x AdamW's loss, per seed 0.005x to 14.7x); convnet_digits 1.12x, mlp_digits_wide 1.22x, linreg_large 1.003x
# found by: configs/lion_digits.yaml (one CPU core, 3,600 s), seed 0, candidate 809 of 18,222 (found at ~390 s; 5,675 evaluated, 62.8% cache hits), 9 mutations from AdamW, at commit af08be3
# reads: no second moment and no weight decay; with m ~ g the step is ~7.6 lr sign(g) sqrt(|g| (1 + |g|)), between SGD and signSGD (sqrt is of |x|), over a short momentum (0.235); v = g is carried but never read
# reproduce: automl reproduce search_spaces/optimizers/discovered/momentum_over_sqrt_softsign.dsl
t1 = softsign(g)
m = interp(g, m, 0.2350312093972748)
m_hat = m / 0.21851465866688824
t5 = t * (-0.0010005003335835344)
t7 = 2.7533422754088126 - t5
v_hat = t1 / t7
t8 = sqrt(v_hat)
update = m_hat / t8
update = lr * update
v = g
