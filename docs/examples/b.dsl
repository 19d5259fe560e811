# the same function, written differently
square = x * x
unused = square * 3
f = c0 * x + square
