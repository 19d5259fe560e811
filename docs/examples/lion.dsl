# Lion (optax.lion: b1 0.9, b2 0.99, weight decay 0.01)
update = interp(g, m, 0.9)
update = sign(update)
m = interp(g, m, 0.99)
update = update + w * 0.01
update = update * lr
