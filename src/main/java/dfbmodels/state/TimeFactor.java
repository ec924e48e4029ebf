package dfbmodels.state;

/**
 * A scalar weight {@code w(t, T)} of the state update at step {@code t} of a run of {@code T}
 * steps: {@code h = h + E_t(GN_err(y)) * w(t, T)}.
 *
 * <p>The feedback ResNets and DeepLabV3+ use {@link #NONE} ({@code w = 1}); the feedback U-Net uses
 * {@link #fractional(double)} (SPEC §6). The factor depends on the run's {@code T}, so a per-call
 * number of iterations changes it.
 */
@FunctionalInterface
public interface TimeFactor {

    /** The factor 1 at every step. */
    TimeFactor NONE = (t, steps) -> 1;

    /**
     * Returns the weight of step {@code t}.
     *
     * @param t the step index, {@code 0 <= t < steps}
     * @param steps the run's number of steps {@code T}, positive
     * @return the weight
     */
    double at(int t, int steps);

    /**
     * The factor of the feedback U-Net (SPEC §6): {@code (1 - t/T)^(alpha-1) / Gamma(alpha)}, which
     * weights a step by the kernel of a Riemann–Liouville fractional integral of order {@code
     * alpha}. {@code alpha = 1} gives 1 at every step; the U-Net's default 1.5 gives {@code sqrt(1
     * - t/T) / 0.886227}.
     *
     * @param alpha the exponent, positive and finite
     * @return the factor
     * @throws IllegalArgumentException if {@code alpha} is not positive and finite
     */
    static TimeFactor fractional(double alpha) {
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException(
                    "the time exponent alpha must be positive and finite, got " + alpha);
        }
        if (alpha == 1) {
            return NONE;
        }
        double gamma = gamma(alpha);
        return (t, steps) -> {
            if (steps < 1 || t < 0 || t >= steps) {
                throw new IllegalArgumentException(
                        "the time factor needs 0 <= t < T, got t=" + t + ", T=" + steps);
            }
            return Math.pow(1 - (double) t / steps, alpha - 1) / gamma;
        };
    }

    /**
     * Returns the Gamma function at {@code x > 0} (Lanczos approximation, g = 7, nine terms, with
     * the reflection formula below 1/2; tested to 1e-14 relative against closed forms).
     *
     * @param x a positive number
     * @return {@code Gamma(x)}
     * @throws IllegalArgumentException if {@code x} is not positive
     */
    static double gamma(double x) {
        if (!(x > 0)) {
            throw new IllegalArgumentException("Gamma is computed for x > 0 only, got " + x);
        }
        if (x < 0.5) {
            // reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x)
            return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
        }
        double[] c = {
            0.99999999999980993,
            676.5203681218851,
            -1259.1392167224028,
            771.32342877765313,
            -176.61502916214059,
            12.507343278686905,
            -0.13857109526572012,
            9.9843695780195716e-6,
            1.5056327351493116e-7
        };
        double z = x - 1;
        double sum = c[0];
        for (int i = 1; i < c.length; i++) {
            sum += c[i] / (z + i);
        }
        double t = z + 7.5;
        return Math.sqrt(2 * Math.PI) * Math.pow(t, z + 0.5) * Math.exp(-t) * sum;
    }
}
