package dfbmodels.state;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.ludovic.netlib.lapack.LAPACK;
import org.netlib.util.intW;

/**
 * Householder QR decomposition through LAPACK ({@code geqrf} + {@code orgqr}), the routines and
 * sign convention of {@code torch.linalg.qr}.
 *
 * <p>DJL exposes no QR, so the matrix is copied to the host and factored by netlib's LAPACK
 * binding: the system's native LAPACK when one is installed (e.g. Debian's {@code
 * libopenblas0-pthread}), otherwise a pure-Java fallback that is about 25 times slower (2,080 ×
 * 2,080 takes about 10 s instead of 0.4 s on two cores). float32 matrices are factored in single
 * precision, like PyTorch does; everything else in double precision.
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
        Shape shape = a.getShape();
        if (shape.dimension() != 2 || shape.get(0) < shape.get(1) || shape.get(1) < 1) {
            throw new IllegalArgumentException(
                    "QR needs a matrix of shape (m, n) with m >= n >= 1, got " + shape);
        }
        int m = Math.toIntExact(shape.get(0));
        int n = Math.toIntExact(shape.get(1));
        NDManager manager = a.getManager();
        DataType type = a.getDataType();
        if (type == DataType.FLOAT32) {
            float[] cm = transposeToColumnMajor(a.toFloatArray(), m, n);
            float[] r = new float[n * n];
            floatQr(cm, m, n, r);
            return new NDList(
                    manager.create(fromColumnMajor(cm, m, n), new Shape(m, n))
                            .toDevice(a.getDevice(), false),
                    manager.create(fromColumnMajor(r, n, n), new Shape(n, n))
                            .toDevice(a.getDevice(), false));
        }
        double[] cm =
                transposeToColumnMajor(a.toType(DataType.FLOAT64, false).toDoubleArray(), m, n);
        double[] r = new double[n * n];
        doubleQr(cm, m, n, r);
        NDArray q = manager.create(fromColumnMajor(cm, m, n), new Shape(m, n));
        NDArray rr = manager.create(fromColumnMajor(r, n, n), new Shape(n, n));
        return new NDList(
                q.toType(type, false).toDevice(a.getDevice(), false),
                rr.toType(type, false).toDevice(a.getDevice(), false));
    }

    /**
     * Returns the orthogonal factor {@code Q} of {@code a}'s QR decomposition.
     *
     * <p>For a square matrix no transposition is needed: LAPACK reads the row-major buffer as
     * {@code aᵀ}, whose LQ decomposition {@code aᵀ = L·Qₗ} ({@code gelqf} + {@code orglq}, the same
     * Householder reflectors as {@code geqrf} on {@code a}) gives {@code Qₗᵀ}, the QR factor of
     * {@code a}, back in the same row-major buffer.
     *
     * @param a the matrix of shape {@code (m, n)}, {@code m >= n}
     * @return {@code Q} of shape {@code (m, n)}, in {@code a}'s manager, device and data type
     */
    public static NDArray orthogonalFactor(NDArray a) {
        Shape shape = a.getShape();
        if (shape.dimension() != 2 || shape.get(0) != shape.get(1)) {
            NDList qr = qr(a);
            qr.get(1).close();
            return qr.get(0);
        }
        return fromHost(a, orthogonalFactorOnHost(toHost(a), Math.toIntExact(shape.get(0))));
    }

    /**
     * Copies a square matrix to the host for {@link #orthogonalFactorOnHost}.
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
     * Replaces a row-major square matrix on the host by the orthogonal factor of its QR
     * decomposition. Touches no NDArray, so it may run on any thread.
     *
     * @param rowMajor a {@code float[]} or {@code double[]} from {@link #toHost}
     * @param n the matrix size
     * @return {@code rowMajor}, overwritten
     */
    static Object orthogonalFactorOnHost(Object rowMajor, int n) {
        if (rowMajor instanceof float[]) {
            floatLq((float[]) rowMajor, n);
        } else {
            doubleLq((double[]) rowMajor, n);
        }
        return rowMajor;
    }

    /**
     * Creates an array like {@code like} from a host matrix of {@link #orthogonalFactorOnHost}.
     *
     * @param like gives the manager, shape, data type and device
     * @param host the values
     * @return the new array
     */
    static NDArray fromHost(NDArray like, Object host) {
        NDManager manager = like.getManager();
        NDArray q =
                host instanceof float[]
                        ? manager.create((float[]) host, like.getShape())
                        : manager.create((double[]) host, like.getShape())
                                .toType(like.getDataType(), false);
        return q.toDevice(like.getDevice(), false);
    }

    private static void doubleLq(double[] a, int n) {
        double[] tau = new double[n];
        intW info = new intW(0);
        double[] query = new double[1];
        LAPACK_INSTANCE.dgelqf(n, n, a, n, tau, query, -1, info);
        double[] work = new double[Math.max(1, (int) query[0])];
        LAPACK_INSTANCE.dgelqf(n, n, a, n, tau, work, work.length, info);
        check("dgelqf", info);
        LAPACK_INSTANCE.dorglq(n, n, n, a, n, tau, query, -1, info);
        work = new double[Math.max(1, (int) query[0])];
        LAPACK_INSTANCE.dorglq(n, n, n, a, n, tau, work, work.length, info);
        check("dorglq", info);
    }

    private static void floatLq(float[] a, int n) {
        float[] tau = new float[n];
        intW info = new intW(0);
        float[] query = new float[1];
        LAPACK_INSTANCE.sgelqf(n, n, a, n, tau, query, -1, info);
        float[] work = new float[Math.max(1, (int) query[0])];
        LAPACK_INSTANCE.sgelqf(n, n, a, n, tau, work, work.length, info);
        check("sgelqf", info);
        LAPACK_INSTANCE.sorglq(n, n, n, a, n, tau, query, -1, info);
        work = new float[Math.max(1, (int) query[0])];
        LAPACK_INSTANCE.sorglq(n, n, n, a, n, tau, work, work.length, info);
        check("sorglq", info);
    }

    // A is overwritten by Q (column-major, m x n); R receives the upper triangle (column-major).
    private static void doubleQr(double[] a, int m, int n, double[] r) {
        double[] tau = new double[n];
        intW info = new intW(0);
        double[] query = new double[1];
        LAPACK_INSTANCE.dgeqrf(m, n, a, m, tau, query, -1, info);
        double[] work = new double[Math.max(1, (int) query[0])];
        LAPACK_INSTANCE.dgeqrf(m, n, a, m, tau, work, work.length, info);
        check("dgeqrf", info);
        for (int j = 0; j < n; j++) {
            for (int i = 0; i <= j; i++) {
                r[i + j * n] = a[i + j * m];
            }
        }
        LAPACK_INSTANCE.dorgqr(m, n, n, a, m, tau, query, -1, info);
        work = new double[Math.max(1, (int) query[0])];
        LAPACK_INSTANCE.dorgqr(m, n, n, a, m, tau, work, work.length, info);
        check("dorgqr", info);
    }

    private static void floatQr(float[] a, int m, int n, float[] r) {
        float[] tau = new float[n];
        intW info = new intW(0);
        float[] query = new float[1];
        LAPACK_INSTANCE.sgeqrf(m, n, a, m, tau, query, -1, info);
        float[] work = new float[Math.max(1, (int) query[0])];
        LAPACK_INSTANCE.sgeqrf(m, n, a, m, tau, work, work.length, info);
        check("sgeqrf", info);
        for (int j = 0; j < n; j++) {
            for (int i = 0; i <= j; i++) {
                r[i + j * n] = a[i + j * m];
            }
        }
        LAPACK_INSTANCE.sorgqr(m, n, n, a, m, tau, query, -1, info);
        work = new float[Math.max(1, (int) query[0])];
        LAPACK_INSTANCE.sorgqr(m, n, n, a, m, tau, work, work.length, info);
        check("sorgqr", info);
    }

    private static void check(String routine, intW info) {
        if (info.val != 0) {
            throw new IllegalStateException("LAPACK " + routine + " failed with info=" + info.val);
        }
    }

    private static double[] transposeToColumnMajor(double[] rowMajor, int m, int n) {
        double[] cm = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                cm[i + j * m] = rowMajor[i * n + j];
            }
        }
        return cm;
    }

    private static float[] transposeToColumnMajor(float[] rowMajor, int m, int n) {
        float[] cm = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                cm[i + j * m] = rowMajor[i * n + j];
            }
        }
        return cm;
    }

    private static double[] fromColumnMajor(double[] cm, int m, int n) {
        double[] rm = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                rm[i * n + j] = cm[i + j * m];
            }
        }
        return rm;
    }

    private static float[] fromColumnMajor(float[] cm, int m, int n) {
        float[] rm = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                rm[i * n + j] = cm[i + j * m];
            }
        }
        return rm;
    }
}
