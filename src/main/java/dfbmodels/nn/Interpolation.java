package dfbmodels.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/** Bilinear resizing of NCHW tensors with PyTorch's {@code F.interpolate} semantics. */
public final class Interpolation {

    // LibTorch's code for bilinear in DJL's JNI (DJL's own Image.Interpolation.BILINEAR maps to it)
    private static final int TORCH_BILINEAR = 2;

    private Interpolation() {}

    /**
     * Resizes the spatial axes bilinearly, like {@code F.interpolate(x, size=(h, w),
     * mode="bilinear", align_corners=alignCorners)}. Differentiable; keeps the input's device and
     * data type.
     *
     * @param x the input of shape {@code (B, C, H, W)}
     * @param height the output height
     * @param width the output width
     * @param alignCorners PyTorch's {@code align_corners}
     * @return the resized input of shape {@code (B, C, height, width)}
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
        if (shape.get(2) == height && shape.get(3) == width) {
            return x;
        }
        if (alignCorners) {
            // DJL 0.36's JNI passes its boolean as antialias, not align_corners, so this mode is
            // computed as two small interpolation matrices: out = Ry · x · Rx^T
            NDArray ry = alignedMatrix(x, height, shape.get(2));
            NDArray rx = alignedMatrix(x, width, shape.get(3));
            return ry.matMul(x).matMul(rx.transpose());
        }
        if (!(x instanceof PtNDArray)) {
            throw new UnsupportedOperationException(
                    "dfbmodels needs DJL's PyTorch engine, got an array of engine "
                            + x.getManager().getEngine().getEngineName());
        }
        return JniUtils.interpolate(
                (PtNDArray) x, new long[] {height, width}, TORCH_BILINEAR, false);
    }

    /** The (out, in) matrix of 1-D linear interpolation with source coordinate i·(in-1)/(out-1). */
    private static NDArray alignedMatrix(NDArray like, long out, long in) {
        double[] m = new double[Math.toIntExact(out * in)];
        double scale = out > 1 ? (double) (in - 1) / (out - 1) : 0;
        for (int i = 0; i < out; i++) {
            double src = i * scale;
            int lo = (int) Math.floor(src);
            int hi = (int) Math.min(lo + 1, in - 1);
            double frac = src - lo;
            m[(int) (i * in + lo)] += 1 - frac;
            m[(int) (i * in + hi)] += frac;
        }
        return like.getManager()
                .create(m, new Shape(out, in))
                .toType(like.getDataType(), false)
                .toDevice(like.getDevice(), false);
    }
}
