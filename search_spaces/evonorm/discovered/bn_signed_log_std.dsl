# space: evonorm
# settings: {architectures: [resnet, mobilenetv2, efficientnet], steps: 300, batch_size: 4, max_nodes: 14, quality_check: true, stability_check: true}
# objectives: {accuracy_resnet: 0.9497487545013428, accuracy_mobilenet: 0.927973210811615, accuracy_efficientnet: 0.8643215894699097}
# beats: BN-ReLU on every proxy network (0.943 / 0.853 / 0.849) and on the held-out VGG-style network at batch size 4 (see README, EvoNorm section)
# found by: configs/evonorm_digits.yaml (one CPU core, 3,612 s), seed 0, candidate 1178 of 1,546 (503 trained, 680 rejected, 362 cache hits) at commit 9afd354; it descends from the BN-ReLU baseline in 19 mutations
# reproduce: automl reproduce search_spaces/evonorm/discovered/bn_signed_log_std.dsl
# formula: y = max(v0, (x - batch_mean(x)) / signed_log(batch_std(x)) + signed_log(v1))
t1 = batch_mean(x)
t2 = x - t1
t3 = batch_std(x)
t8 = signed_log(t3)
t4 = t2 / t8
t5 = signed_log(v1)
t6 = t4 + t5
y = max(v0, t6)
