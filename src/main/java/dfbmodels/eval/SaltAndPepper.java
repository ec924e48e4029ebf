package dfbmodels.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.translate.Transform;
import java.util.Random;

/**
 * Salt-and-pepper (impulse) noise: every value (pixel and channel) independently becomes 0 with
 * probability {@code fraction/2}, 1 with probability {@code fraction/2}, and stays as it is
 * otherwise; as scikit-image's {@code random_noise(mode='s&p', amount=fraction)}, which
 * ImageNet-C's {@code impulse_noise} uses. The expected fraction of replaced values is {@code
 * fraction}.
 *
 * <p>Input: a {@code (C, H, W)} image or an {@code (N, C, H, W)} batch, floating point, values in
 * [0, 1]; output: the same shape, data type and device.
 *
 * <p><b>Reproducible</b> as {@link GaussianNoise}: each image has its own {@link Random} keyed by
 * the seed and the image's values; for the values in C order it draws {@code u =
 * random.nextDouble()} and sets the value to 0 if {@code u < fraction/2}, to 1 if {@code fraction/2
 * <= u < fraction}. The same image is corrupted the same way alone, in any batch or order.
 */
public final class SaltAndPepper implements Transform {

    private final float fraction;
    private final long seed;

    /**
     * Creates the corruption.
     *
     * @param fraction the expected fraction of values replaced, in [0, 1]
     * @param seed the seed
     * @throws IllegalArgumentException if {@code fraction} is outside [0, 1] or NaN
     */
    public SaltAndPepper(float fraction, long seed) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException(
                    "SaltAndPepper fraction must be in [0, 1], got " + fraction);
        }
        this.fraction = fraction;
        this.seed = seed;
    }

    /**
     * Returns the expected fraction of replaced values.
     *
     * @return the fraction
     */
    public float getFraction() {
        return fraction;
    }

    /**
     * Returns a corrupted copy of the images.
     *
     * @param array a {@code (C, H, W)} image or {@code (N, C, H, W)} batch in [0, 1]
     * @return the corrupted images, same shape, data type and device
     * @throws IllegalArgumentException if the array is not a floating-point image or batch
     */
    @Override
    public NDArray transform(NDArray array) {
        long n = Images.checkImages("SaltAndPepper", array);
        float[] v = Images.toHost(array);
        int size = (int) (v.length / n);
        double half = fraction / 2.0;
        for (int i = 0; i < n; i++) {
            int offset = i * size;
            Random random = new Random(Images.key(seed, v, offset, size));
            for (int k = offset; k < offset + size; k++) {
                double u = random.nextDouble();
                if (u < half) {
                    v[k] = 0f;
                } else if (u < fraction) {
                    v[k] = 1f;
                }
            }
        }
        return Images.fromHost(array, v);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "SaltAndPepper(fraction=" + fraction + ", seed=" + seed + ")";
    }
}
