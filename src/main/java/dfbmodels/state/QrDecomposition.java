package dfbmodels.state;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ludovic.netlib.lapack.LAPACK;
import org.netlib.util.intW;

/**
 * Householder QR decomposition through LAPACK, with the reflectors and sign convention of {@code
 * torch.linalg.qr}.
 *
 * <p>DJL exposes no QR, so the matrix is copied to the host and factored by netlib's LAPACK
 * binding: the system's native LAPACK when one is installed (e.g. Debian's {@code
 * libopenblas0-pthread}), otherwise a pure-Java fallback that is about 25 times slower (2,080 ×
 * 2,080 takes about 10 s instead of 0.3 s on two cores). float32 matrices are factored in single
 * precision, like PyTorch does; everything else in double precision.
 *
 * <p>No transposition is needed: LAPACK reads the row-major {@code (m, n)} buffer as the
 * column-major {@code Aᵀ}, whose LQ decomposition {@code Aᵀ = L·Qₗ} ({@code gelqf} + {@code orglq},
 * the same Householder reflectors as {@code geqrf} on {@code A}) leaves {@code Q = Qₗᵀ} and {@code
 * R = Lᵀ} in row-major order.
 */
public final class QrDecomposition {

    private static final LAPACK LAPACK_INSTANCE = LAPACK.getInstance();

    private QrDecomposition() {}

    /**
     * Returns the name of the LAPACK implementation in use.
     *
     * @return the implementation's class name, e.g. {@code JNILAPACK} (native) or {@code F2jLAPACK}
     *     (pure Java)
     */
    public static String implementation() {
        return LAPACK_INSTANCE.getClass().getSimpleName();
    }

    /**
     * Computes the reduced QR decomposition {@code A = Q R} of a matrix with at least as many rows
     * as columns, like {@code torch.linalg.qr(A)} (for a square matrix also {@code
     * mode="complete"}).
     *
     * @param a the matrix of shape {@code (m, n)}, {@code m >= n}
     * @return {@code Q} of shape {@code (m, n)} with orthonormal columns and upper-triangular
     *     {@code R} of shape {@code (n, n)}, in {@code a}'s manager, device and data type
     */
    public static NDList qr(NDArray a) {
        int[] mn = checkShape(a);
        int m = mn[0];
        int n = mn[1];
        Object host = toHost(a);
        Object r = host instanceof float[] ? new float[n * n] : new double[n * n];
        factor(host, m, n, r);
        return new NDList(fromHost(a, host, a.getShape()), fromHost(a, r, new Shape(n, n)));
    }

    /**
     * Returns the orthogonal factor {@code Q} of {@code a}'s QR decomposition.
     *
     * @param a the matrix of shape {@code (m, n)}, {@code m >= n}
     * @return {@code Q} of shape {@code (m, n)}, in {@code a}'s manager, device and data type
     */
    public static NDArray orthogonalFactor(NDArray a) {
        int[] mn = checkShape(a);
        return fromHost(a, orthogonalFactorOnHost(toHost(a), mn[0], mn[1]), a.getShape());
    }

    /**
     * Copies a matrix to the host for {@link #orthogonalFactorOnHost}.
     *
     * @param a the matrix
     * @return a row-major {@code float[]} (float32 input) or {@code double[]} (any other type)
     */
    static Object toHost(NDArray a) {
        return a.getDataType() == DataType.FLOAT32
                ? a.toFloatArray()
                : a.toType(DataType.FLOAT64, false).toDoubleArray();
    }

    /**
     * Replaces a row-major {@code (m, n)} matrix on the host by the orthogonal factor of its QR
     * decomposition. Touches no NDArray, so it may run on any thread.
     *
     * @param rowMajor a {@code float[]} or {@code double[]} from {@link #toHost}
     * @param m the number of rows
     * @param n the number of columns, {@code <= m}
     * @return {@code rowMajor}, overwritten
     */
    static Object orthogonalFactorOnHost(Object rowMajor, int m, int n) {
        factor(rowMajor, m, n, null);
        return rowMajor;
    }

    /**
     * Creates an array like {@code like} from host values.
     *
     * @param like gives the manager, data type and device
     * @param host the values, row-major
     * @param shape the shape
     * @return the new array
     */
    static NDArray fromHost(NDArray like, Object host, Shape shape) {
        NDManager manager = like.getManager();
        // conversions leave their source behind: only the result may stay in like's manager
        try (NDManager scope = manager.newSubManager()) {
            NDArray host2d =
                    host instanceof float[]
                            ? scope.create((float[]) host, shape)
                            : scope.create((double[]) host, shape);
            NDArray q = host2d.toType(like.getDataType(), false).toDevice(like.getDevice(), false);
            q.attach(manager);
            return q;
        }
    }

    private static int[] checkShape(NDArray a) {
        Shape shape = a.getShape();
        if (shape.dimension() != 2 || shape.get(0) < shape.get(1) || shape.get(1) < 1) {
            throw new IllegalArgumentException(
                    "QR needs a matrix of shape (m, n) with m >= n >= 1, got " + shape);
        }
        return new int[] {Math.toIntExact(shape.get(0)), Math.toIntExact(shape.get(1))};
    }

    /** Q overwrites {@code a} (row-major m×n); R (row-major n×n) goes to {@code r} if not null. */
    private static void factor(Object a, int m, int n, Object r) {
        intW info = new intW(0);
        if (a instanceof float[]) {
            float[] buf = (float[]) a;
            float[] tau = new float[n];
            float[] query = new float[1];
            LAPACK_INSTANCE.sgelqf(n, m, buf, n, tau, query, -1, info);
            float[] work = new float[Math.max(1, (int) query[0])];
            LAPACK_INSTANCE.sgelqf(n, m, buf, n, tau, work, work.length, info);
            check("sgelqf", info);
            if (r != null) {
                upperTriangle(buf, (float[]) r, n);
            }
            LAPACK_INSTANCE.sorglq(n, m, n, buf, n, tau, query, -1, info);
            work = new float[Math.max(1, (int) query[0])];
            LAPACK_INSTANCE.sorglq(n, m, n, buf, n, tau, work, work.length, info);
            check("sorglq", info);
        } else {
            double[] buf = (double[]) a;
            double[] tau = new double[n];
            double[] query = new double[1];
            LAPACK_INSTANCE.dgelqf(n, m, buf, n, tau, query, -1, info);
            double[] work = new double[Math.max(1, (int) query[0])];
            LAPACK_INSTANCE.dgelqf(n, m, buf, n, tau, work, work.length, info);
            check("dgelqf", info);
            if (r != null) {
                upperTriangle(buf, (double[]) r, n);
            }
            LAPACK_INSTANCE.dorglq(n, m, n, buf, n, tau, query, -1, info);
            work = new double[Math.max(1, (int) query[0])];
            LAPACK_INSTANCE.dorglq(n, m, n, buf, n, tau, work, work.length, info);
            check("dorglq", info);
        }
    }

    // L sits in the lower triangle of the column-major n×n block, i.e. R = Lᵀ in the upper
    // triangle of the first n row-major rows
    private static void upperTriangle(float[] a, float[] r, int n) {
        for (int i = 0; i < n; i++) {
            System.arraycopy(a, i * n + i, r, i * n + i, n - i);
        }
    }

    private static void upperTriangle(double[] a, double[] r, int n) {
        for (int i = 0; i < n; i++) {
            System.arraycopy(a, i * n + i, r, i * n + i, n - i);
        }
    }

    private static void check(String routine, intW info) {
        if (info.val != 0) {
            throw new IllegalStateException("LAPACK " + routine + " failed with info=" + info.val);
        }
    }
}
