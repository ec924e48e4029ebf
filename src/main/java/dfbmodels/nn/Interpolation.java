package dfbmodels.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/** Bilinear resizing of NCHW tensors with PyTorch's {@code F.interpolate} semantics. */
public final class Interpolation {

    // LibTorch's code for bilinear in DJL's JNI (DJL's own Image.Interpolation.BILINEAR maps to it)
    private static final int TORCH_BILINEAR = 2;

    private Interpolation() {}

    /**
     * Resizes the spatial axes bilinearly, like {@code F.interpolate(x, size=(h, w),
     * mode="bilinear", align_corners=alignCorners)}.
     *
     * <p>DJL's {@code NDArrayEx#interpolation} ignores {@code alignCorners}, so this calls LibTorch
     * directly. Differentiable; keeps the input's device and data type.
     *
     * @param x the input of shape {@code (B, C, H, W)}
     * @param height the output height
     * @param width the output width
     * @param alignCorners PyTorch's {@code align_corners}
     * @return the resized input of shape {@code (B, C, height, width)}
     */
    public static NDArray bilinear(NDArray x, long height, long width, boolean alignCorners) {
        if (!(x instanceof PtNDArray)) {
            throw new UnsupportedOperationException(
                    "dfbmodels needs DJL's PyTorch engine, got an array of engine "
                            + x.getManager().getEngine().getEngineName());
        }
        return JniUtils.interpolate(
                (PtNDArray) x, new long[] {height, width}, TORCH_BILINEAR, alignCorners);
    }
}
