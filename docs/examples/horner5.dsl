# the degree-5 polynomial in Horner form: 5 mul + 5 add, cost 10
f = c0 + x * (c1 + x * (c2 + x * (c3 + x * (c4 + x * c5))))
