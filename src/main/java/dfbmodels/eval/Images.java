package dfbmodels.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** Shape checks, per-image keys and host round trips shared by the corruptions. */
final class Images {

    private static final long FNV_PRIME = 0x100000001B3L;

    private Images() {}

    /**
     * Checks that {@code array} is a floating-point {@code (C, H, W)} image or {@code (N, C, H, W)}
     * batch.
     *
     * @return the number of images ({@code 1} for {@code (C, H, W)})
     */
    static long checkImages(String corruption, NDArray array) {
        Shape s = array.getShape();
        if (s.dimension() != 3 && s.dimension() != 4) {
            throw new IllegalArgumentException(
                    corruption
                            + " needs a (C, H, W) image or an (N, C, H, W) batch, got shape "
                            + s);
        }
        if (!array.getDataType().isFloating()) {
            throw new IllegalArgumentException(
                    corruption
                            + " needs floating-point images in [0, 1] (after ToTensor), got "
                            + array.getDataType());
        }
        if (s.size() == 0) {
            throw new IllegalArgumentException(corruption + " got an empty array, shape " + s);
        }
        return s.dimension() == 4 ? s.get(0) : 1;
    }

    /**
     * The key of one image's random stream: {@code mix64(h)} where {@code h} starts at {@code
     * mix64(seed)} and takes every value {@code v} of the image in C order as {@code h = (h ^
     * (floatToIntBits(v) & 0xffffffffL)) * 0x100000001B3L} (64-bit FNV-1a over 32-bit words), and
     * {@code mix64} is SplitMix64's finaliser. Equal images get equal keys whatever their position
     * in a batch or dataset.
     */
    static long key(long seed, float[] values, int offset, int length) {
        long h = mix64(seed);
        for (int i = offset; i < offset + length; i++) {
            h = (h ^ (Float.floatToIntBits(values[i]) & 0xffffffffL)) * FNV_PRIME;
        }
        return mix64(h);
    }

    /** SplitMix64's finaliser (Steele, Lea, Flood 2014): a bijection that mixes all 64 bits. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The values of {@code array} as float32, read to the host. */
    static float[] toHost(NDArray array) {
        if (array.getDataType() == DataType.FLOAT32) {
            return array.toFloatArray();
        }
        try (NDArray f = array.toType(DataType.FLOAT32, true)) {
            return f.toFloatArray();
        }
    }

    /** An array like {@code like} (shape, device, data type, manager) holding {@code values}. */
    static NDArray fromHost(NDArray like, float[] values) {
        NDManager manager = like.getManager();
        NDArray host = manager.create(values, like.getShape());
        NDArray onDevice = host.toDevice(like.getDevice(), false);
        if (onDevice != host) {
            host.close();
        }
        NDArray typed = onDevice.toType(like.getDataType(), false);
        if (typed != onDevice) {
            onDevice.close();
        }
        return typed;
    }
}
