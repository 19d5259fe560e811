# AdamW with the found program's first-moment rate (b1 0.6483509815780549) and its own bias
# correction 1 - b1^t: isolates what the rate alone does
m = interp(g, m, 0.6483509815780549)
v = interp(square(g), v, 0.999)
m_hat = m / (1 - exp(t * -0.4333230910251679))
v_hat = v / (1 - exp(t * -0.0010005003335835344))
update = m_hat / sqrt(v_hat)
update = update * lr
