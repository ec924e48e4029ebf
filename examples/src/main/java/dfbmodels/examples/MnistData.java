package dfbmodels.examples;

import ai.djl.basicdataset.cv.classification.FashionMnist;
import ai.djl.basicdataset.cv.classification.Mnist;
import ai.djl.modality.cv.transform.ToTensor;
import ai.djl.ndarray.NDManager;
import ai.djl.repository.Repository;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.util.ProgressBar;
import ai.djl.translate.TranslateException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * MNIST and Fashion-MNIST through DJL's {@link Mnist} and {@link FashionMnist}.
 *
 * <p>By default DJL downloads the data. With a local folder of the standard IDX files, the files
 * are staged (decompressed) under the names of DJL's own dataset artifact ({@code train_data},
 * {@code train_labels}, {@code test_data}, {@code test_labels}) and handed to DJL as a local {@link
 * Repository}, so DJL's dataset classes still do all the parsing.
 */
final class MnistData {

    /** The standard file of each artifact item. */
    static final Map<String, String> FILES = new LinkedHashMap<>();

    static {
        FILES.put("train_data", "train-images-idx3-ubyte");
        FILES.put("train_labels", "train-labels-idx1-ubyte");
        FILES.put("test_data", "t10k-images-idx3-ubyte");
        FILES.put("test_labels", "t10k-labels-idx1-ubyte");
    }

    private MnistData() {}

    /** Sampling (shuffled for training), tensor conversion and the optional limit. */
    private static <T extends RandomAccessDataset.BaseBuilder<T>> T batches(
            T builder, Options o, Dataset.Usage usage, int limit) {
        builder.setSampling(o.batchSize, usage == Dataset.Usage.TRAIN).addTransform(new ToTensor());
        if (limit > 0) {
            builder.optLimit(limit);
        }
        return builder;
    }

    static RandomAccessDataset load(
            Options o, NDManager manager, Dataset.Usage usage, int limit, Path staging)
            throws IOException {
        RandomAccessDataset dataset;
        boolean fashion = o.dataset.equals("fashion-mnist");
        Repository repository = o.dataDir == null ? null : stage(o.dataDir, staging);
        // DJL's two builders share only their RandomAccessDataset part
        if (fashion) {
            FashionMnist.Builder b = FashionMnist.builder().optManager(manager).optUsage(usage);
            if (repository != null) {
                b.optRepository(repository);
            }
            dataset = batches(b, o, usage, limit).build();
        } else {
            Mnist.Builder b = Mnist.builder().optManager(manager).optUsage(usage);
            if (repository != null) {
                b.optRepository(repository);
            }
            dataset = batches(b, o, usage, limit).build();
        }
        try {
            dataset.prepare(new ProgressBar());
        } catch (IOException | TranslateException | RuntimeException e) {
            if (o.dataDir != null) {
                throw new IOException(
                        "could not read "
                                + o.dataset
                                + " from "
                                + o.dataDir
                                + ": "
                                + e.getMessage(),
                        e);
            }
            throw new IOException(
                    "could not get "
                            + o.dataset
                            + " through DJL ("
                            + e.getMessage()
                            + "). Without network access, put "
                            + String.join(", ", standardNames())
                            + " (gzip-compressed or not) into a folder and pass --data-dir"
                            + " FOLDER. Fashion-MNIST: apt-get install dataset-fashion-mnist, then"
                            + " --dataset fashion-mnist --data-dir /usr/share/datasets/fashion-mnist",
                    e);
        }
        return dataset;
    }

    private static List<String> standardNames() {
        List<String> names = new ArrayList<>();
        FILES.values().forEach(n -> names.add(n + ".gz"));
        return names;
    }

    private static Repository stage(Path dir, Path staging) throws IOException {
        List<String> missing = new ArrayList<>();
        Files.createDirectories(staging);
        for (Map.Entry<String, String> f : FILES.entrySet()) {
            Path gz = dir.resolve(f.getValue() + ".gz");
            Path plain = dir.resolve(f.getValue());
            Path target = staging.resolve(f.getKey());
            if (Files.isRegularFile(gz)) {
                try (InputStream is = new GZIPInputStream(Files.newInputStream(gz))) {
                    Files.copy(is, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } else if (Files.isRegularFile(plain)) {
                Files.copy(plain, target, StandardCopyOption.REPLACE_EXISTING);
            } else {
                missing.add(f.getValue() + ".gz");
            }
        }
        if (!missing.isEmpty()) {
            throw new IOException(
                    "--data-dir "
                            + dir.toAbsolutePath()
                            + " lacks "
                            + String.join(", ", missing)
                            + ": put the four IDX files ("
                            + String.join(", ", standardNames())
                            + ", gzip-compressed or not) into that folder");
        }
        return Repository.newInstance("local-" + dir.getFileName(), staging);
    }
}
