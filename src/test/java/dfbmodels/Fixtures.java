package dfbmodels;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.util.JsonUtils;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/** Access to the PyTorch original's outputs in {@code ../shared/fixtures}, and comparisons. */
public final class Fixtures {

    private Fixtures() {}

    /**
     * Returns the fixtures folder, skipping the calling test when it does not exist.
     *
     * @return the folder
     */
    public static Path dir() {
        String configured = System.getProperty("dfbmodels.fixtures");
        Path dir =
                configured != null ? Paths.get(configured) : Paths.get("..", "shared", "fixtures");
        Assumptions.assumeTrue(
                Files.isDirectory(dir),
                "parity fixtures not found at "
                        + dir.toAbsolutePath().normalize()
                        + " (expected ../shared/fixtures beside the repository); parity test"
                        + " skipped");
        return dir;
    }

    /**
     * Loads every tensor of a fixture file, named by its key.
     *
     * @param manager the manager of the arrays
     * @param name the file name inside the fixtures folder
     * @return the tensors
     * @throws IOException if the file cannot be read
     */
    public static NDList load(NDManager manager, String name) throws IOException {
        try (InputStream is = Files.newInputStream(dir().resolve(name))) {
            return NDList.decode(manager, is);
        }
    }

    /**
     * Reads the {@code __metadata__} of a safetensors fixture.
     *
     * @param name the file name inside the fixtures folder
     * @return the metadata
     * @throws IOException if the file cannot be read
     */
    public static Map<String, String> metadata(String name) throws IOException {
        try (InputStream is = Files.newInputStream(dir().resolve(name))) {
            byte[] len = is.readNBytes(8);
            int n = (int) ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
            String json = new String(is.readNBytes(n), StandardCharsets.UTF_8);
            JsonObject meta =
                    JsonUtils.GSON.fromJson(json, JsonObject.class).getAsJsonObject("__metadata__");
            Map<String, String> out = new HashMap<>();
            if (meta != null) {
                meta.keySet().forEach(k -> out.put(k, meta.get(k).getAsString()));
            }
            return out;
        }
    }

    /**
     * The parity error of SPEC §5: {@code max |got - want| / max(|want|, 1)}.
     *
     * @param got the computed values
     * @param want the expected values
     * @return the error
     */
    public static double error(NDArray got, NDArray want) {
        if (!got.getShape().equals(want.getShape())) {
            throw new AssertionError("shape " + got.getShape() + " != expected " + want.getShape());
        }
        double[] g = got.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray();
        double[] w = want.toType(ai.djl.ndarray.types.DataType.FLOAT64, false).toDoubleArray();
        double max = 0;
        for (int i = 0; i < g.length; i++) {
            double e = Math.abs(g[i] - w[i]) / Math.max(Math.abs(w[i]), 1.0);
            if (!(e <= max)) {
                max = Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
            }
        }
        return max;
    }

    /**
     * Asserts that {@code got} equals {@code want} within {@code tol} in the metric of {@link
     * #error}.
     *
     * @param what a name for the message
     * @param got the computed values
     * @param want the expected values
     * @param tol the tolerance
     * @return the error
     */
    public static double assertClose(String what, NDArray got, NDArray want, double tol) {
        double e = error(got, want);
        if (!(e <= tol)) {
            throw new AssertionError(what + ": error " + e + " > tolerance " + tol);
        }
        return e;
    }

    /**
     * Like {@link #assertClose} and prints the error, for the parity report.
     *
     * @param what a name for the message
     * @param got the computed values
     * @param want the expected values
     * @param tol the tolerance
     */
    public static void report(String what, NDArray got, NDArray want, double tol) {
        System.out.printf(
                "parity %-40s error %.2e (tolerance %.0e)%n",
                what, assertClose(what, got, want, tol), tol);
    }
}
