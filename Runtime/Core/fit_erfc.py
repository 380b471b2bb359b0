#!/usr/bin/env python3
"""Fits the Chebyshev series that ActivationKernels uses for erfc (GELU).

erfc(x) = t * exp(-x^2) * h(t) for x >= 0, with t = 2 / (2 + x) in (0, 1] and h smooth on [0, 1]
(h(0) = 1/(2 sqrt(pi)), the limit x -> infinity). h is fitted as a degree-20 Chebyshev series in u = 2t - 1
by least squares at 400 Chebyshev nodes, with reference values from mpmath at 40 digits, then written as a
polynomial in u (well conditioned: the sum of its coefficients' magnitudes is 1.03, h is 0.28-0.58), which the
kernel evaluates as even and odd halves in u^2. Run with a Python that has numpy and mpmath (Debian: /usr/bin/python3
with python3-numpy, python3-mpmath); it prints the coefficients (a0 first) and the largest relative error of erfc
over x in [0, 26] with h evaluated that way in float64.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
DEGREE, NODES = 20, 400


def h(t):
    t = mp.mpf(t)
    if t == 0:
        return 1 / (2 * mp.sqrt(mp.pi))
    x = 2 * (1 - t) / t
    return mp.erfc(x) * mp.exp(x * x) / t


k = np.arange(NODES)
tn = 0.5 - 0.5 * np.cos(np.pi * (k + 0.5) / NODES)
c = np.polynomial.chebyshev.chebfit(2 * tn - 1, [float(h(t)) for t in tn], DEGREE)
a = np.polynomial.chebyshev.cheb2poly(c)
for v in a:
    print(repr(float(v)))


def h_float64(u):
    u2 = u * u
    even, odd = a[20], a[19]
    for k in range(18, -1, -2):
        even = even * u2 + a[k]
    for k in range(17, -1, -2):
        odd = odd * u2 + a[k]
    return even + u * odd


xs = np.concatenate([np.linspace(0, 4, 4001), np.linspace(4, 26, 4001)])
worst = 0.0
for x in xs:
    t = 2 / (2 + x)
    approx = t * float(mp.exp(-mp.mpf(x) ** 2)) * h_float64(t + t - 1)
    exact = mp.erfc(mp.mpf(x))
    worst = max(worst, abs(float(approx / exact - 1)))
print("max relative error of erfc on [0, 26]:", worst)
