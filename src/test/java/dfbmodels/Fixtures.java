package dfbmodels;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.util.JsonUtils;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * Access to the parity fixtures, and comparisons.
 *
 * <p>Two sets: the small one committed in {@code src/test/resources/fixtures} (written by {@code
 * tools/make_fixtures.py}, always present), and the PyTorch original's larger set in {@code
 * ../shared/fixtures} (system property {@code dfbmodels.fixtures}), which is not in the repository:
 * a test that needs a file of it is skipped, with the reason printed by {@link SkipReporter}, when
 * the folder is absent. See docs/parity.md.
 */
public final class Fixtures {

    private Fixtures() {}

    /**
     * Returns the folder of the fixtures committed in the repository.
     *
     * @return the folder ({@code fixtures} on the test class path)
     */
    public static Path repositoryDir() {
        URL url = Fixtures.class.getResource("/fixtures");
        if (url == null) {
            throw new AssertionError(
                    "src/test/resources/fixtures is missing from the test class path; it is part"
                            + " of the repository (regenerate with tools/make_fixtures.py)");
        }
        try {
            return Paths.get(url.toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Returns the folder of the PyTorch original's fixture set, skipping the calling test when it
     * does not exist.
     *
     * @return the folder
     */
    public static Path dir() {
        String configured = System.getProperty("dfbmodels.fixtures");
        Path dir =
                configured != null ? Paths.get(configured) : Paths.get("..", "shared", "fixtures");
        Assumptions.assumeTrue(
                Files.isDirectory(dir),
                () ->
                        "the PyTorch original's fixture set is not at "
                                + dir.toAbsolutePath().normalize()
                                + " (system property dfbmodels.fixtures, by default"
                                + " ../shared/fixtures beside the repository); the repository's"
                                + " own fixtures still run. See docs/parity.md");
        return dir;
    }

    /**
     * Finds a fixture file: in the repository's set if it is there, else in the original's set
     * (skipping the calling test when that set is absent).
     *
     * @param name the file name
     * @return the file
     * @throws AssertionError if the original's set is present but lacks the file
     */
    public static Path path(String name) {
        Path committed = repositoryDir().resolve(name);
        if (Files.isRegularFile(committed)) {
            return committed;
        }
        Path shared = dir().resolve(name);
        if (!Files.isRegularFile(shared)) {
            throw new AssertionError(
                    "fixture "
                            + name
                            + " is in neither "
                            + committed.getParent()
                            + " nor "
                            + shared.getParent());
        }
        return shared;
    }

    /**
     * Loads every tensor of a fixture file, named by its key.
     *
     * @param manager the manager of the arrays
     * @param name the file name, found by {@link #path}
     * @return the tensors
     * @throws IOException if the file cannot be read
     */
    public static NDList load(NDManager manager, String name) throws IOException {
        try (InputStream is = Files.newInputStream(path(name))) {
            return NDList.decode(manager, is);
        }
    }

    /**
     * Reads the {@code __metadata__} of a safetensors fixture.
     *
     * @param name the file name, found by {@link #path}
     * @return the metadata
     * @throws IOException if the file cannot be read
     */
    public static Map<String, String> metadata(String name) throws IOException {
        try (InputStream is = Files.newInputStream(path(name))) {
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
