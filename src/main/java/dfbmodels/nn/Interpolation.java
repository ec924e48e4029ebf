package dfbmodels.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/** Bilinear resizing of NCHW tensors with PyTorch's {@code F.interpolate} semantics. */
public final class Interpolation {

    // LibTorch's code for bilinear in DJL's JNI (DJL's own Image.Interpolation.BILINEAR maps to it)
    private static final int TORCH_BILINEAR = 2;

    private Interpolation() {}

    /**
     * Resizes the spatial axes bilinearly, equal to {@code F.interpolate(x, size=(height, width),
     * mode="bilinear", align_corners=alignCorners)} (PyTorch's default {@code antialias=False}),
     * for upsampling, downsampling and one axis of each.
     *
     * <p>With {@code alignCorners == false} output pixel {@code i} of an axis of input length
     * {@code in} and output length {@code out} reads the source coordinate {@code max((i + 0.5) ·
     * in / out − 0.5, 0)}; with {@code true}, {@code i · (in − 1) / (out − 1)} (0 when {@code out
     * == 1}). The value there is the linear blend of its two neighbouring input pixels, the last
     * pixel repeating past the edge: a downsampled axis skips pixels rather than averaging them.
     *
     * <p>Differentiable; keeps the input's device and data type (float16 and bfloat16 are blended
     * in float32, as PyTorch does). Returns {@code x} itself when the size is unchanged.
     *
     * @param x the input of shape {@code (B, C, H, W)}, floating point
     * @param height the output height, positive
     * @param width the output width, positive
     * @param alignCorners PyTorch's {@code align_corners}
     * @return the resized input of shape {@code (B, C, height, width)}, in {@code x}'s manager
     * @throws IllegalArgumentException if {@code x} is not 4-D or a size is not positive
     */
    public static NDArray bilinear(NDArray x, long height, long width, boolean alignCorners) {
        Shape shape = x.getShape();
        if (shape.dimension() != 4 || height < 1 || width < 1) {
            throw new IllegalArgumentException(
                    "bilinear resize needs an input of shape (B, C, H, W) and a positive size, got "
                            + shape
                            + " -> "
                            + height
                            + "x"
                            + width);
        }
        long inHeight = shape.get(2);
        long inWidth = shape.get(3);
        if (inHeight == height && inWidth == width) {
            return x;
        }
        DataType type = x.getDataType();
        boolean half = type == DataType.FLOAT16 || type == DataType.BFLOAT16;
        if (!alignCorners
                && !half
                && height >= inHeight
                && width >= inWidth
                && x instanceof PtNDArray) {
            // The feedback loop's path, every step. DJL 0.36's JNI always sets antialias=true;
            // when no axis shrinks, LibTorch's antialiased kernel has support 1 and the triangle
            // filter at the same source coordinates, which is plain bilinear (tested against
            // F.interpolate). A shrinking axis averages, align_corners=true is off too (by up to
            // 2.8 on the fixture's inputs in [-5, 5], upsampling), and there is no float16 or
            // bfloat16 kernel on the CPU: all of those take the matrices.
            return JniUtils.interpolate(
                    (PtNDArray) x, new long[] {height, width}, TORCH_BILINEAR, false);
        }
        // out = Ry · x · Rx^T with (out, in) matrices of two non-zeros per row: exact bilinear
        // without antialiasing, differentiable through matMul
        NDManager outer = x.getManager();
        try (NDManager scope = outer.newSubManager(x.getDevice())) {
            scope.tempAttachAll(x); // intermediates land in the scope, x returns to its manager
            DataType compute = half ? DataType.FLOAT32 : type;
            NDArray out = half ? x.toType(compute, false) : x;
            if (inHeight != height) {
                out = matrix(scope, x, compute, height, inHeight, alignCorners).matMul(out);
            }
            if (inWidth != width) {
                out =
                        out.matMul(
                                matrix(scope, x, compute, width, inWidth, alignCorners)
                                        .transpose());
            }
            if (half) {
                out = out.toType(type, false);
            }
            out.attach(outer);
            return out;
        }
    }

    /**
     * The 1-D interpolation matrix along one axis, PyTorch's {@code upsample_bilinear2d} rule
     * ({@code area_pixel_compute_source_index}), shape (out, in), in {@code scope}.
     */
    private static NDArray matrix(
            NDManager scope, NDArray like, DataType type, long out, long in, boolean alignCorners) {
        int n = Math.toIntExact(out);
        int m = Math.toIntExact(in);
        double[] w = new double[n * m];
        double scale;
        if (alignCorners) {
            scale = n > 1 ? (double) (m - 1) / (n - 1) : 0;
        } else {
            scale = (double) m / n;
        }
        for (int i = 0; i < n; i++) {
            double src = alignCorners ? i * scale : Math.max(scale * (i + 0.5) - 0.5, 0);
            int lo = Math.min((int) Math.floor(src), m - 1);
            int hi = lo < m - 1 ? lo + 1 : lo;
            double frac = Math.min(Math.max(src - lo, 0), 1);
            w[i * m + lo] += 1 - frac;
            w[i * m + hi] += frac;
        }
        // an array created from Java data points into a Java buffer that is released with the
        // scope, while autograd keeps the matrix for backward: hand LibTorch its own copy
        NDArray host = scope.create(w, new Shape(out, in));
        NDArray owned = host.getDataType() == type ? host.duplicate() : host.toType(type, false);
        return owned.toDevice(like.getDevice(), false);
    }
}
