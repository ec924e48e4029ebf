package dfbmodels;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assumptions;

/**
 * The first images of Fashion-MNIST's test split, decoded from the standard gzip-compressed IDX
 * files of Debian's {@code dataset-fashion-mnist} ({@code /usr/share/datasets/fashion-mnist}, or
 * the folder in the system property {@code dfbmodels.fashionMnist}). Tests that use it are skipped,
 * with a message on the console, when the files are absent.
 */
public final class FashionMnistSample {

    private FashionMnistSample() {}

    /**
     * Returns the data folder, skipping the calling test when the test files are absent.
     *
     * @return the folder holding {@code t10k-images-idx3-ubyte.gz} and {@code
     *     t10k-labels-idx1-ubyte.gz}
     */
    public static Path dir() {
        Path dir =
                Paths.get(
                        System.getProperty(
                                "dfbmodels.fashionMnist", "/usr/share/datasets/fashion-mnist"));
        boolean present =
                Files.isRegularFile(dir.resolve("t10k-images-idx3-ubyte.gz"))
                        && Files.isRegularFile(dir.resolve("t10k-labels-idx1-ubyte.gz"));
        if (!present) {
            System.err.println(
                    "SKIPPED: Fashion-MNIST test files not found in "
                            + dir
                            + " (apt-get install dataset-fashion-mnist)");
        }
        Assumptions.assumeTrue(
                present, "Fashion-MNIST not found in " + dir + "; real-data test skipped");
        return dir;
    }

    /**
     * Reads the first {@code n} test images as floats in [0, 1] (pixel / 255, what DJL's {@code
     * ToTensor} gives).
     *
     * @param manager the manager of the result
     * @param n how many images, at most 10,000
     * @return {@code (n, 1, 28, 28)} float32
     * @throws IOException if the file cannot be read or is not an IDX image file
     */
    public static NDArray images(NDManager manager, int n) throws IOException {
        try (DataInputStream in = open("t10k-images-idx3-ubyte.gz", 0x803)) {
            int count = in.readInt();
            int rows = in.readInt();
            int cols = in.readInt();
            if (n > count || rows != 28 || cols != 28) {
                throw new IOException("unexpected IDX header " + count + "x" + rows + "x" + cols);
            }
            byte[] pixels = new byte[n * rows * cols];
            in.readFully(pixels);
            float[] values = new float[pixels.length];
            for (int i = 0; i < pixels.length; i++) {
                values[i] = (pixels[i] & 0xff) / 255f;
            }
            return manager.create(values, new Shape(n, 1, rows, cols));
        }
    }

    /**
     * Reads the first {@code n} test labels.
     *
     * @param manager the manager of the result
     * @param n how many labels
     * @return {@code (n)} float32 class indices 0..9 (DJL's {@code FashionMnist} gives float labels
     *     too)
     * @throws IOException if the file cannot be read or is not an IDX label file
     */
    public static NDArray labels(NDManager manager, int n) throws IOException {
        try (DataInputStream in = open("t10k-labels-idx1-ubyte.gz", 0x801)) {
            int count = in.readInt();
            if (n > count) {
                throw new IOException("only " + count + " labels");
            }
            byte[] labels = new byte[n];
            in.readFully(labels);
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                values[i] = labels[i];
            }
            return manager.create(values, new Shape(n));
        }
    }

    private static DataInputStream open(String name, int magic) throws IOException {
        DataInputStream in =
                new DataInputStream(new GZIPInputStream(Files.newInputStream(dir().resolve(name))));
        int got = in.readInt();
        if (got != magic) {
            in.close();
            throw new IOException(name + ": IDX magic " + Integer.toHexString(got));
        }
        return in;
    }
}
