f = c0 + x * (c1 + x *
