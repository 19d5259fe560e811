f = x * (c0 + x)
