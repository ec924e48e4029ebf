package dfbmodels.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.Transform;

/**
 * Contrast reduction towards each image's mean: {@code factor·x + (1 − factor)·m}, i.e. {@code m +
 * factor·(x − m)}, where {@code m} is the mean of the image over all its channels and pixels.
 * {@code factor = 1} leaves the image unchanged, {@code factor = 0} makes it a uniform grey at its
 * mean. Values in [0, 1] stay in [0, 1] (a convex combination), so nothing is clipped.
 *
 * <p>This is torchvision's {@code adjust_contrast(img, factor)} for single-channel images (same
 * blend). For RGB images torchvision blends towards the mean of the <em>grayscale</em> image
 * ({@code 0.2989 R + 0.587 G + 0.114 B}) and ImageNet-C's {@code contrast} towards each channel's
 * own mean; this transform uses the plain mean over all values, so the three differ by {@code (1 −
 * factor)} times the difference of the means.
 *
 * <p>Input: a {@code (C, H, W)} image or an {@code (N, C, H, W)} batch (one mean per image),
 * floating point; output: the same shape, data type and device. Deterministic.
 */
public final class ContrastReduction implements Transform {

    private final float factor;

    /**
     * Creates the corruption.
     *
     * @param factor the remaining contrast, in [0, 1] (1: unchanged, 0: uniform)
     * @throws IllegalArgumentException if {@code factor} is outside [0, 1] or NaN
     */
    public ContrastReduction(float factor) {
        if (!(factor >= 0 && factor <= 1)) {
            throw new IllegalArgumentException(
                    "ContrastReduction factor must be in [0, 1] (1 = unchanged), got " + factor);
        }
        this.factor = factor;
    }

    /**
     * Returns the remaining contrast.
     *
     * @return the factor
     */
    public float getFactor() {
        return factor;
    }

    /**
     * Returns the images with reduced contrast.
     *
     * @param array a {@code (C, H, W)} image or {@code (N, C, H, W)} batch
     * @return the images, same shape, data type and device
     * @throws IllegalArgumentException if the array is not a floating-point image or batch
     */
    @Override
    public NDArray transform(NDArray array) {
        long n = Images.checkImages("ContrastReduction", array);
        Shape s = array.getShape();
        NDManager parent = array.getManager();
        try (NDManager scope = parent.newSubManager(array.getDevice())) {
            scope.tempAttachAll(array);
            Shape perImage = s.dimension() == 4 ? new Shape(n, 1, 1, 1) : new Shape(1, 1, 1);
            NDArray mean = array.reshape(n, -1).mean(new int[] {1}).reshape(perImage);
            NDArray out = array.mul(factor).add(mean.mul(1f - factor));
            out.attach(parent);
            return out;
        }
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "ContrastReduction(factor=" + factor + ")";
    }
}
