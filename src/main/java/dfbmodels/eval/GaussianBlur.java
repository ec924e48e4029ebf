package dfbmodels.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.Transform;

/**
 * Gaussian blur with a separable kernel, as torchvision's {@code
 * transforms.functional.gaussian_blur(img, kernel_size=2r+1, sigma)}: radius {@code r =
 * ceil(3·sigma)}, weights {@code w_k = exp(-k²/(2·sigma²)) / Σ_j exp(-j²/(2·sigma²))} for {@code k
 * = -r..r}, applied along the height and then the width, each channel on its own, with
 * <em>reflect</em> padding (the border value is not repeated: index {@code -1} reads index {@code
 * 1}; torchvision's and NumPy's {@code 'reflect'}). torchvision leaves the kernel size to the
 * caller; {@code ceil(3·sigma)} keeps 99.7% of the Gaussian's mass. (ImageNet-C blurs with
 * scikit-image, which pads by repeating the edge and truncates at 4·sigma: border pixels and the
 * far tails differ.) {@code sigma = 0} returns the input unchanged.
 *
 * <p>Input: a {@code (C, H, W)} image or an {@code (N, C, H, W)} batch, floating point; output: the
 * same shape, data type and device. Values in [0, 1] stay in [0, 1] (the weights are positive and
 * sum to 1). Computed on the input's device as two matrix products, {@code B_H · x · B_Wᵀ}, with
 * the padding folded into the {@code (H × H)} and {@code (W × W)} matrices.
 */
public final class GaussianBlur implements Transform {

    private final float sigma;

    /**
     * Creates the corruption.
     *
     * @param sigma the standard deviation of the kernel in pixels, in [0, ∞); images must be larger
     *     than {@code ceil(3·sigma)} in both height and width (reflect padding)
     * @throws IllegalArgumentException if {@code sigma} is negative, infinite or NaN
     */
    public GaussianBlur(float sigma) {
        if (!(sigma >= 0) || Float.isInfinite(sigma)) {
            throw new IllegalArgumentException(
                    "GaussianBlur sigma must be in [0, inf) (finite, in pixels), got " + sigma);
        }
        this.sigma = sigma;
    }

    /**
     * Returns the standard deviation of the kernel.
     *
     * @return sigma, in pixels
     */
    public float getSigma() {
        return sigma;
    }

    /**
     * Returns the kernel radius {@code ceil(3·sigma)}.
     *
     * @return the radius in pixels
     */
    public int getRadius() {
        return (int) Math.ceil(3.0 * sigma);
    }

    /**
     * Returns the blurred images.
     *
     * @param array a {@code (C, H, W)} image or {@code (N, C, H, W)} batch
     * @return the blurred images, same shape, data type and device ({@code array} itself when
     *     {@code sigma = 0})
     * @throws IllegalArgumentException if the array is not a floating-point image or batch, or its
     *     height or width is not larger than the radius
     */
    @Override
    public NDArray transform(NDArray array) {
        Images.checkImages("GaussianBlur", array);
        if (sigma == 0) {
            return array;
        }
        Shape s = array.getShape();
        int rank = s.dimension();
        long height = s.get(rank - 2);
        long width = s.get(rank - 1);
        int radius = getRadius();
        if (radius >= height || radius >= width) {
            throw new IllegalArgumentException(
                    "GaussianBlur sigma="
                            + sigma
                            + " has radius ceil(3*sigma)="
                            + radius
                            + ", which reflect padding needs to be smaller than the image height"
                            + " and width; got "
                            + height
                            + "x"
                            + width
                            + " (shape "
                            + s
                            + "): use sigma <= "
                            + (Math.min(height, width) - 1) / 3.0);
        }
        double[] weights = weights();
        NDManager parent = array.getManager();
        try (NDManager scope = parent.newSubManager(array.getDevice())) {
            scope.tempAttachAll(array);
            NDArray rows = matrix(scope, (int) height, weights, array.getDataType());
            NDArray cols = matrix(scope, (int) width, weights, array.getDataType());
            NDArray out = rows.matMul(array).matMul(cols.transpose());
            out.attach(parent);
            return out;
        }
    }

    private double[] weights() {
        int r = getRadius();
        double[] w = new double[2 * r + 1];
        double sum = 0;
        for (int k = -r; k <= r; k++) {
            w[k + r] = Math.exp(-(double) k * k / (2.0 * sigma * sigma));
            sum += w[k + r];
        }
        for (int i = 0; i < w.length; i++) {
            w[i] /= sum;
        }
        return w;
    }

    /** {@code B[i, j] = Σ_k w_k [reflect(i + k) = j]}: the 1-D blur with reflect padding. */
    private static NDArray matrix(NDManager manager, int n, double[] weights, DataType type) {
        int r = weights.length / 2;
        double[] b = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int k = -r; k <= r; k++) {
                int j = i + k;
                if (j < 0) {
                    j = -j;
                } else if (j >= n) {
                    j = 2 * (n - 1) - j;
                }
                b[i * n + j] += weights[k + r];
            }
        }
        return manager.create(b, new Shape(n, n)).toType(type, false);
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "GaussianBlur(sigma=" + sigma + ", radius=" + getRadius() + ")";
    }
}
