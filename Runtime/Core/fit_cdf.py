#!/usr/bin/env python3
"""Fits the polynomial that ActivationKernels uses for GELU's normal CDF on |z| <= 3 (no exp, no division there).

Phi(z) = 1/2 + z * Q(z^2) with Q(u) = (Phi(sqrt(u)) - 1/2) / sqrt(u), an entire function, fitted on u in [0, 9] as a
degree-16 Chebyshev least-squares series at 300 nodes (reference values from mpmath at 40 digits) and written as a
polynomial in u. Prints the coefficients (a0 first) and the largest relative error of Phi on [-3, 3] with Q evaluated
in float64 as the kernel does (even and odd halves in u^2); most of it is the cancellation of 1/2 + z*Q near z = -3.
Run with /usr/bin/python3 (Debian python3-numpy, python3-mpmath).
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
DEGREE, NODES, U_MAX = 16, 300, 9.0


def q(u):
    u = mp.mpf(u)
    if u == 0:
        return 1 / mp.sqrt(2 * mp.pi)
    z = mp.sqrt(u)
    return (mp.ncdf(z) - mp.mpf(1) / 2) / z


k = np.arange(NODES)
un = U_MAX / 2 - U_MAX / 2 * np.cos(np.pi * (k + 0.5) / NODES)
c = np.polynomial.chebyshev.chebfit(un / (U_MAX / 2) - 1, [float(q(u)) for u in un], DEGREE)
in_s = np.polynomial.Polynomial(np.polynomial.chebyshev.cheb2poly(c))
a = in_s(np.polynomial.Polynomial([-1, 2 / U_MAX])).coef
for v in a:
    print(repr(float(v)))


def q_float64(u):
    u2 = u * u
    even, odd = a[16], a[15]
    for j in range(14, -1, -2):
        even = even * u2 + a[j]
    for j in range(13, -1, -2):
        odd = odd * u2 + a[j]
    return even + u * odd


worst = 0.0
for z in np.linspace(-3, 3, 12001):
    phi = 0.5 + z * q_float64(z * z)
    worst = max(worst, abs(float(phi / mp.ncdf(mp.mpf(z)) - 1)))
print("max relative error of Phi on [-3, 3]:", worst)
