package dfbmodels.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One tensor of a weights file whose header has been validated: its type, shape and byte count
 * agree with each other and with the file.
 */
final class TensorEntry {

    final String key;

    /** The type as the file spells it, for messages: {@code BF16}, {@code '>f4'}. */
    final String dtypeName;

    /** The element type, or null for a numpy type with no counterpart here (never loaded). */
    final TensorType type;

    final long[] shape;
    final ByteOrder order;
    final boolean fortranOrder;

    /**
     * Where the data starts, in the format's own terms (a file offset, or an offset in an entry).
     */
    final long offset;

    final long byteLength;

    TensorEntry(
            String key,
            String dtypeName,
            TensorType type,
            long[] shape,
            ByteOrder order,
            boolean fortranOrder,
            long offset,
            long byteLength) {
        this.key = key;
        this.dtypeName = dtypeName;
        this.type = type;
        this.shape = shape;
        this.order = order;
        this.fortranOrder = fortranOrder;
        this.offset = offset;
        this.byteLength = byteLength;
    }

    Shape shape() {
        return new Shape(shape);
    }

    /**
     * Returns the number of elements of {@code shape}, or -1 if it overflows a long.
     *
     * @param shape non-negative sizes
     */
    static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d != 0 && n > Long.MAX_VALUE / d) {
                return -1;
            }
            n *= d;
        }
        return n;
    }

    /**
     * Decodes the tensor's bytes exactly into a CPU array in C order: {@code float64} for {@link
     * TensorType#F64}, {@code float32} for every other floating type.
     *
     * @param manager the manager of the new array
     * @param data exactly {@link #byteLength} bytes
     */
    NDArray decode(NDManager manager, ByteBuffer data) {
        if (type == null || type.kind() != TensorType.Kind.FLOAT) {
            throw new IllegalStateException(key + " of type " + dtypeName + " does not decode");
        }
        data.order(order);
        int n = Math.toIntExact(elements(shape));
        Shape s = shape();
        if (type == TensorType.F64) {
            double[] values = new double[n];
            data.asDoubleBuffer().get(values);
            return manager.create(fortranOrder ? toC(values, shape) : values, s);
        }
        float[] values = new float[n];
        switch (type) {
            case F32:
                data.asFloatBuffer().get(values);
                break;
            case F16:
            case BF16:
                for (int i = 0; i < n; i++) {
                    values[i] = type.decodeSmall(data.getShort() & 0xFFFF);
                }
                break;
            default:
                for (int i = 0; i < n; i++) {
                    values[i] = type.decodeSmall(data.get() & 0xFF);
                }
                break;
        }
        return manager.create(fortranOrder ? toC(values, shape) : values, s);
    }

    /** Reorders column-major (Fortran) values to row-major (C). */
    private static float[] toC(float[] fortran, long[] shape) {
        float[] c = new float[fortran.length];
        int[] map = fortranIndexOfC(shape, fortran.length);
        for (int i = 0; i < c.length; i++) {
            c[i] = fortran[map[i]];
        }
        return c;
    }

    private static double[] toC(double[] fortran, long[] shape) {
        double[] c = new double[fortran.length];
        int[] map = fortranIndexOfC(shape, fortran.length);
        for (int i = 0; i < c.length; i++) {
            c[i] = fortran[map[i]];
        }
        return c;
    }

    /** For every C-order position, the position of the same element in Fortran order. */
    private static int[] fortranIndexOfC(long[] shape, int n) {
        int rank = shape.length;
        long[] fortranStride = new long[rank];
        long stride = 1;
        for (int k = 0; k < rank; k++) {
            fortranStride[k] = stride;
            stride *= shape[k];
        }
        int[] map = new int[n];
        long[] index = new long[rank];
        long position = 0;
        for (int i = 0; i < n; i++) {
            map[i] = (int) position;
            // advance the C-order multi-index (last axis fastest), tracking the Fortran position
            for (int k = rank - 1; k >= 0; k--) {
                index[k]++;
                position += fortranStride[k];
                if (index[k] < shape[k]) {
                    break;
                }
                position -= index[k] * fortranStride[k];
                index[k] = 0;
            }
        }
        return map;
    }
}
