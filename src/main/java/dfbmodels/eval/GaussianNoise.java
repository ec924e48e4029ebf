package dfbmodels.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.translate.Transform;
import java.util.Random;

/**
 * Additive Gaussian noise on images in [0, 1], clipped: {@code clip(x + sigma·z, 0, 1)} with {@code
 * z ~ N(0, 1)} drawn independently for every value (pixel and channel), as {@code gaussian_noise}
 * of Hendrycks and Dietterich's corruption benchmark (ImageNet-C). (The segmentation paper's
 * polygons, SPEC §6, rescale {@code x + sigma·z} to [0, 1] per image instead of clipping; such a
 * variant is a {@link Corruption#of} away.)
 *
 * <p>Input: a {@code (C, H, W)} image or an {@code (N, C, H, W)} batch, floating point, values in
 * [0, 1] (after {@code ToTensor}); output: the same shape, data type and device, in [0, 1].
 *
 * <p><b>Reproducible.</b> The noise does not come from the engine's random generator. Each image
 * gets its own {@link Random} keyed by the seed and the image's own values (a 64-bit hash of both),
 * and {@code z} is that generator's {@link Random#nextGaussian()} sequence over the image's values
 * in C order, with {@code x + (float) (sigma * z)} computed in float32. So an image is corrupted
 * the same way whether it comes alone or in a batch, in any order, on any thread, in any epoch: a
 * test set corrupted in a DJL dataset pipeline ({@code addTransform}) or by {@link
 * RobustnessEvaluation} is the same fixed set for every model and every T. Identical images get
 * identical noise; another seed gives other noise. (For training augmentation, where fresh noise
 * per epoch is wanted, change the seed per epoch.) Values are read to the host, corrupted there and
 * copied back.
 */
public final class GaussianNoise implements Transform {

    private final float sigma;
    private final long seed;

    /**
     * Creates the corruption.
     *
     * @param sigma the standard deviation of the noise, in [0, ∞) (image units: 0.1 is a tenth of
     *     the range)
     * @param seed the seed
     * @throws IllegalArgumentException if {@code sigma} is negative, infinite or NaN
     */
    public GaussianNoise(float sigma, long seed) {
        if (!(sigma >= 0) || Float.isInfinite(sigma)) {
            throw new IllegalArgumentException(
                    "GaussianNoise sigma must be in [0, inf) (finite), got " + sigma);
        }
        this.sigma = sigma;
        this.seed = seed;
    }

    /**
     * Returns the standard deviation.
     *
     * @return sigma
     */
    public float getSigma() {
        return sigma;
    }

    /**
     * Returns a corrupted copy of the images.
     *
     * @param array a {@code (C, H, W)} image or {@code (N, C, H, W)} batch in [0, 1]
     * @return the corrupted images, same shape, data type and device, in [0, 1]
     * @throws IllegalArgumentException if the array is not a floating-point image or batch
     */
    @Override
    public NDArray transform(NDArray array) {
        long n = Images.checkImages("GaussianNoise", array);
        float[] v = Images.toHost(array);
        int size = (int) (v.length / n);
        for (int i = 0; i < n; i++) {
            int offset = i * size;
            Random random = new Random(Images.key(seed, v, offset, size));
            for (int k = offset; k < offset + size; k++) {
                float value = v[k] + (float) (sigma * random.nextGaussian());
                v[k] = Math.min(1f, Math.max(0f, value));
            }
        }
        return Images.fromHost(array, v);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "GaussianNoise(sigma=" + sigma + ", seed=" + seed + ")";
    }
}
