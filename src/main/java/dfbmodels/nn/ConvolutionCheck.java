package dfbmodels.nn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.pytorch.jni.LibUtils;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guards against a fault of LibTorch's oneDNN convolutions on some CPUs: wrong float32 results,
 * silently.
 *
 * <p>Seen on AMD Zen 5 (family 26) under a Firecracker VM with LibTorch 2.7.1: oneDNN's AVX2 and
 * AVX-512 convolution kernels give outputs off by 10–20% of their range when a 3×3 convolution
 * reduces over a channel count that is not a multiple of the vector block (e.g. 72 = 64 + fb, the
 * first feedback layer), and input gradients that are wrong intermittently even for aligned counts.
 * Python's PyTorch 1.13 (oneDNN 2.6) and oneDNN limited to SSE4.1 are exact on the same machine.
 *
 * <p>{@link #ensureCorrect(NDArray)} runs once per process, on the first CPU forward of a feedback
 * model: a known-answer probe (a float32 3×3 convolution over 20 input channels against the same
 * convolution in float64; deterministic data, the engine's random stream untouched). If the probe
 * fails, it turns oneDNN off in LibTorch ({@code at::globalContext().setUserEnabledMkldnn(false)},
 * what {@code torch.backends.mkldnn.enabled = False} does in Python), so convolutions take ATen's
 * own path, checks again and logs a warning. That path is exact, and slower: a feedback ResNet18
 * forward (32×32, batch 32, T = 5) took 3.8× the faulty time here; starting the JVM with {@code
 * DNNL_MAX_CPU_ISA=SSE41} in the environment keeps oneDNN, exact, at 3.2× (docs/performance.md). If
 * the fault cannot be removed, it throws rather than compute wrong numbers. {@code
 * -Ddfbmodels.convolutionCheck=false} skips the check.
 */
public final class ConvolutionCheck {

    private static final Logger logger = LoggerFactory.getLogger(ConvolutionCheck.class);

    private static final String PROPERTY = "dfbmodels.convolutionCheck";

    // float32 against float64 over 180 products: rounding gives ~1e-7, the fault 1e-1
    private static final double TOLERANCE = 1e-4;

    private static volatile boolean checked;
    private static volatile double faultError;

    private ConvolutionCheck() {}

    /**
     * Makes sure float32 convolutions on the CPU are correct in this process, once (later calls
     * return at once); does nothing for other devices.
     *
     * @param like an array whose manager and device the probe uses
     * @throws IllegalStateException if convolutions are wrong and oneDNN cannot be turned off; the
     *     message says how to fix it
     */
    public static void ensureCorrect(NDArray like) {
        if (checked
                || !Device.Type.CPU.equals(like.getDevice().getDeviceType())
                || !Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))) {
            return;
        }
        synchronized (ConvolutionCheck.class) {
            if (checked) {
                return;
            }
            quietNnpack();
            double error = probe(like.getManager(), like.getDevice());
            if (error <= TOLERANCE) {
                checked = true;
                return;
            }
            faultError = error;
            String disabled = disableOneDnn();
            double after = disabled == null ? probe(like.getManager(), like.getDevice()) : error;
            if (!(after <= TOLERANCE)) {
                throw new IllegalStateException(
                        String.format(
                                "LibTorch computes float32 convolutions wrongly on this machine"
                                        + " (probe error %.2g, tolerance %.0e) and dfbmodels could"
                                        + " not switch oneDNN off (%s). Start the JVM with"
                                        + " DNNL_MAX_CPU_ISA=SSE41 in the environment, or use"
                                        + " float64.",
                                error, TOLERANCE, disabled == null ? "still wrong" : disabled));
            }
            logger.warn(
                    String.format(
                            "LibTorch's oneDNN computes float32 convolutions wrongly on this"
                                    + " machine (probe error %.2g); dfbmodels switched oneDNN off"
                                    + " for this process: convolutions are exact, and slower."
                                    + " Starting the JVM with DNNL_MAX_CPU_ISA=SSE41 in the"
                                    + " environment keeps oneDNN, exact and 3-6x faster than this"
                                    + " fallback (dfbmodels docs/performance.md, side by side).",
                            error));
            checked = true;
        }
    }

    /**
     * Returns the probe error that made {@link #ensureCorrect} switch oneDNN off, or 0 if it did
     * not (or has not run).
     *
     * @return the relative error of the faulty convolution, or 0
     */
    public static double faultError() {
        return faultError;
    }

    /**
     * Computes the relative error of a float32 3×3 convolution over 20 input channels against
     * float64.
     *
     * @param parent the manager to open a scope in
     * @param device the device to run on
     * @return {@code max|y32 - y64| / max|y64|}
     */
    static double probe(NDManager parent, Device device) {
        Random random = new Random(20);
        Shape xShape = new Shape(2, 20, 6, 6);
        Shape wShape = new Shape(8, 20, 3, 3);
        Shape one = new Shape(1, 1);
        try (NDManager scope = parent.newSubManager(device)) {
            NDArray x = scope.create(gaussian(random, xShape), xShape);
            NDArray w = scope.create(gaussian(random, wShape), wShape);
            NDArray want = Conv2d.conv2d(x, w, null, one, one, one, 1).head();
            NDArray got =
                    Conv2d.conv2d(
                                    x.toType(DataType.FLOAT32, false),
                                    w.toType(DataType.FLOAT32, false),
                                    null,
                                    one,
                                    one,
                                    one,
                                    1)
                            .head()
                            .toType(DataType.FLOAT64, false);
            return got.sub(want).abs().max().getDouble() / want.abs().max().getDouble();
        }
    }

    /** Calls {@code at::globalContext().setUserEnabledMkldnn(false)}; returns null or why not. */
    private static String disableOneDnn() {
        try {
            NativeLibrary torch = libtorch();
            torch.getFunction("_ZN2at7Context20setUserEnabledMkldnnEb")
                    .invokeVoid(new Object[] {context(torch), (byte) 0});
            return null;
        } catch (RuntimeException | LinkageError e) {
            return e.toString();
        }
    }

    /**
     * Switches NNPACK off where it cannot initialise: ATen asks it first at some convolutions
     * (oneDNN off, or with one thread: 1x1 kernels, small batches), and an NNPACK that cannot
     * initialise on this CPU logs a warning each time (thousands per run) and computes nothing.
     * Only a log is at stake, so a failure here is not an error.
     */
    private static void quietNnpack() {
        try {
            NativeLibrary torch = libtorch();
            if (!nnpackAvailable(torch)) {
                torch.getFunction("_ZN2at7Context20setUserEnabledNNPACKEb")
                        .invokeVoid(new Object[] {context(torch), (byte) 0});
            }
        } catch (RuntimeException | LinkageError e) {
            logger.debug("could not switch NNPACK off", e);
        }
    }

    /**
     * Whether NNPACK is enabled: ATen then asks it at some convolutions, whether or not it can
     * initialise.
     *
     * @return {@code at::globalContext().userEnabledNNPACK()}
     */
    static boolean nnpackEnabled() {
        NativeLibrary torch = libtorch();
        return (torch.getFunction("_ZNK2at7Context17userEnabledNNPACKEv")
                                .invokeInt(new Object[] {context(torch)})
                        & 0xff)
                != 0;
    }

    /**
     * Whether NNPACK is there and initialises on this CPU.
     *
     * @return {@code at::_nnpack_available()}
     */
    static boolean nnpackAvailable() {
        return nnpackAvailable(libtorch());
    }

    private static boolean nnpackAvailable(NativeLibrary torch) {
        return (torch.getFunction("_ZN2at4_ops17_nnpack_available4callEv").invokeInt(new Object[0])
                        & 0xff)
                != 0;
    }

    private static NativeLibrary libtorch() {
        Path dir = Paths.get(LibUtils.getLibtorchPath());
        return NativeLibrary.getInstance(dir.resolve("libtorch_cpu.so").toString());
    }

    private static Pointer context(NativeLibrary torch) {
        return torch.getFunction("_ZN2at13globalContextEv").invokePointer(new Object[0]);
    }

    private static double[] gaussian(Random random, Shape shape) {
        double[] v = new double[Math.toIntExact(shape.size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = random.nextGaussian();
        }
        return v;
    }
}
