# space: optimizers
# settings: {mantissa_bits: 24, tasks: [logreg_digits, mlp_digits, linreg_noisy, spirals], funnel_tasks: [mlp_digits_x10, spirals_x10], learning_rates: [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1], max_statements: 30, max_constants: 8, hash_steps: 4, init_seed: 0, funnel_gates_score: true, reference_weight_decays: [0.01], score: geometric_mean, program_batching: auto, lr_schedule: constant}
# objectives: {loss_logreg_digits: 0.12495476007461548, loss_mlp_digits: 0.053010571748018265, loss_linreg_noisy: 0.27732232213020325, loss_spirals: 0.005826503038406372, score: 0.6765304049397729}
# proxy: validation loss against AdamW (rate tuned): logreg_digits 0.1250 vs 0.1203, mlp_digits 0.0530 vs 0.0683, linreg_noisy 0.2773 vs 0.2804, spirals 0.0058 vs 0.0222; funnel mlp_digits_x10 0.0746 vs 0.0755, spirals_x10 0.00432 vs 0.00462
# held out: beats AdamW (decay 0.01, rate tuned) on 1 of 4 meta-validation tasks (linreg_large 0.27988 vs 0.27999; loses convnet_digits 0.102 vs 0.085, mlp_digits_wide 0.077 vs 0.072, spirals_deep 0.0059 vs 0.0019) and on 0 of 4 against AdamW tuned over decay 0.01/0.03/0.1 (scripts/meta_validate.py): a proxy winner that does not generalize
# found by: configs/lion_digits.yaml (one CPU core, 3,600 s), seed 0, candidate 401 of 8,664 (found at 307 s; 5,153 evaluated, 2,839 cache hits), 3 mutations from AdamW, at commit fc01bea
# reads: v is a slow average of g itself, not of g^2, and sqrt is of |v|: the step is m / sqrt(|slow mean of g|), sign-like where the gradient keeps its sign
# reproduce: automl reproduce search_spaces/optimizers/discovered/adamw_signed_second_moment.dsl
m = interp(g, m, 0.9)
v = interp(g, v, 0.999)
m_hat = m / 0.21851465866688824
t5 = t * (-0.0007582182468851669)
t6 = exp(t5)
t7 = 1.0 - t6
v_hat = v / t7
t8 = sqrt(v_hat)
update = m_hat / t8
t9 = w * 0.01
update = update + t9
update = lr * update
