package dfbmodels.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Record;
import ai.djl.util.Progress;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Synthetic polygons under Gaussian noise, the data set of "Deep Recurrence for Dynamical
 * Segmentation Models" (Calhas and Oliveira, 2025; the original's {@code PolygonsDataset}, SPEC
 * §6), as a DJL {@link RandomAccessDataset}.
 *
 * <p>Image {@code i} holds one filled polygon with {@code k} vertices, {@code k} uniform in {@code
 * 3 .. shapes + 2} ({@code shapes = 1}, the default: triangles only): radius {@code r ~ U(H/10,
 * H/4)}, vertex {@code n} at radius {@code |N(r, irregularity²)|} and angle {@code 2πn/k} (row
 * offset {@code ρ sin}, column offset {@code ρ cos}, truncated to whole pixels), centre uniform
 * over the image (the polygon may be cut by the border). A pixel belongs to the polygon when its
 * centre is inside it (even–odd rule). Geometry depends only on the seed and {@code i}, so a data
 * set of any size takes no memory and the same seed gives the same polygons at every noise level.
 *
 * <p>Data: {@code (channels, H, W)} float32, the mask copied to every channel, plus {@code N(0,
 * sigma²)} per pixel and channel drawn at read time, then min-max normalised per image to {@code
 * [0, 1]} (a constant image, e.g. an empty mask at {@code sigma = 0}, becomes zeros). By default
 * every read of an image draws fresh noise, as the original (reproducible: the {@code j}-th read of
 * image {@code i} gets the same noise in every run); {@link Builder#optFreshNoise(boolean)
 * optFreshNoise(false)} gives each image one fixed noise draw, for test sets. For a given seed the
 * noise is the same standard normal draw scaled by {@code sigma}, so data sets differing only in
 * sigma show the same polygons under proportionally stronger noise.
 *
 * <p>Labels: per-pixel class indices {@code (1, H, W)} int64 (0 background, {@code k - 2} the
 * polygon), as DJL's {@code SoftmaxCrossEntropyLoss(name, 1, 1, true, true)} takes them, or with
 * {@link Builder#optOneHotLabels(boolean) optOneHotLabels(true)} one-hot {@code (shapes + 1, H, W)}
 * float32, as the original.
 */
public class Polygons extends RandomAccessDataset {

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private final long size;
    private final int height;
    private final int width;
    private final int channels;
    private final int shapes;
    private final double irregularity;
    private final float sigma;
    private final long seed;
    private final boolean freshNoise;
    private final boolean oneHot;
    private final AtomicIntegerArray reads;

    Polygons(Builder builder) {
        super(builder);
        size = builder.size;
        height = builder.height;
        width = builder.width;
        channels = builder.channels;
        shapes = builder.shapes;
        irregularity =
                Double.isNaN(builder.irregularity) ? 5.0 * height / 512 : builder.irregularity;
        sigma = builder.sigma;
        seed = builder.seed;
        freshNoise = builder.freshNoise;
        oneHot = builder.oneHot;
        reads = freshNoise ? new AtomicIntegerArray(Math.toIntExact(size)) : null;
    }

    /**
     * Returns a new builder.
     *
     * @return a new builder; {@code setSize} and {@code setSampling} are required
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the number of label classes: background plus one per polygon type.
     *
     * @return {@code shapes + 1}
     */
    public int getNumClasses() {
        return shapes + 1;
    }

    /**
     * Returns the noise standard deviation.
     *
     * @return sigma
     */
    public float getSigma() {
        return sigma;
    }

    /**
     * Returns the image height.
     *
     * @return H
     */
    public int getHeight() {
        return height;
    }

    /**
     * Returns the image width.
     *
     * @return W
     */
    public int getWidth() {
        return width;
    }

    /** {@inheritDoc} */
    @Override
    public Record get(NDManager manager, long index) {
        int[] mask = mask(index);
        float[] image = image(mask, index);
        NDArray data = manager.create(image, new Shape(channels, height, width));
        NDArray label;
        if (oneHot) {
            int classes = shapes + 1;
            float[] hot = new float[classes * height * width];
            for (int p = 0; p < mask.length; p++) {
                hot[mask[p] * mask.length + p] = 1;
            }
            label = manager.create(hot, new Shape(classes, height, width));
        } else {
            long[] idx = new long[mask.length];
            for (int p = 0; p < mask.length; p++) {
                idx[p] = mask[p];
            }
            label = manager.create(idx, new Shape(1, height, width));
        }
        return new Record(new NDList(data), new NDList(label));
    }

    /**
     * Returns the label map of image {@code index}: the class of every pixel, row-major.
     *
     * @param index the image, {@code 0 <= index < size}
     * @return {@code H * W} class indices (0 background)
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     */
    public int[] mask(long index) {
        checkIndex(index);
        SplittableRandom random = new SplittableRandom(mix(seed, index));
        int k = 3 + random.nextInt(shapes);
        double r = height / 10.0 + random.nextDouble() * (height / 4.0 - height / 10.0);
        double[] rows = new double[k];
        double[] cols = new double[k];
        for (int n = 0; n < k; n++) {
            double rho = Math.abs(r + irregularity * random.nextGaussian());
            double angle = 2 * Math.PI * n / k;
            // the original truncates the offsets to int32 before adding the centre
            rows[n] = (long) (rho * Math.sin(angle));
            cols[n] = (long) (rho * Math.cos(angle));
        }
        int centreRow = random.nextInt(height);
        int centreCol = random.nextInt(width);
        for (int n = 0; n < k; n++) {
            rows[n] += centreRow;
            cols[n] += centreCol;
        }
        int[] mask = new int[height * width];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                if (inside(rows, cols, y, x)) {
                    mask[y * width + x] = k - 2;
                }
            }
        }
        return mask;
    }

    /**
     * Returns image {@code index} as the data set serves it: the mask in every channel plus noise,
     * min-max normalised. With fresh noise (the default) this counts as a read.
     *
     * @param index the image, {@code 0 <= index < size}
     * @return {@code channels * H * W} values in {@code [0, 1]}, channel-major
     * @throws IndexOutOfBoundsException if {@code index} is out of range
     */
    public float[] image(long index) {
        return image(mask(index), index);
    }

    private float[] image(int[] mask, long index) {
        int read = freshNoise ? reads.getAndIncrement(Math.toIntExact(index)) : 0;
        SplittableRandom noise = new SplittableRandom(mix(mix(seed, index) ^ GOLDEN, read));
        int pixels = height * width;
        float[] image = new float[channels * pixels];
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < channels; c++) {
            for (int p = 0; p < pixels; p++) {
                float v = (mask[p] > 0 ? 1f : 0f) + (float) (sigma * noise.nextGaussian());
                image[c * pixels + p] = v;
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        float range = max - min;
        for (int i = 0; i < image.length; i++) {
            image[i] = range > 0 ? (image[i] - min) / range : 0f;
        }
        return image;
    }

    /** Even–odd rule: does the horizontal ray from pixel centre (y, x) cross an odd count? */
    private static boolean inside(double[] rows, double[] cols, double y, double x) {
        boolean in = false;
        for (int i = 0, j = rows.length - 1; i < rows.length; j = i++) {
            if ((rows[i] > y) != (rows[j] > y)) {
                double cross = cols[j] + (y - rows[j]) * (cols[i] - cols[j]) / (rows[i] - rows[j]);
                if (x < cross) {
                    in = !in;
                }
            }
        }
        return in;
    }

    private void checkIndex(long index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException(
                    "polygon index must be in [0, " + size + "), got " + index);
        }
    }

    // SplitMix64's finaliser over the pair: nearby seeds and indices give unrelated streams
    private static long mix(long a, long b) {
        long z = a * GOLDEN + b;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** {@inheritDoc} */
    @Override
    protected long availableSize() {
        return size;
    }

    /** {@inheritDoc} */
    @Override
    public void prepare(Progress progress) {}

    /** Builds a {@link Polygons} data set. */
    public static final class Builder extends BaseBuilder<Builder> {

        private long size = -1;
        private int height = 64;
        private int width = 64;
        private int channels = 3;
        private int shapes = 1;
        private double irregularity = Double.NaN;
        private float sigma;
        private long seed;
        private boolean freshNoise = true;
        private boolean oneHot;

        Builder() {}

        /** {@inheritDoc} */
        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets the number of images (required).
         *
         * @param size a positive number, at most {@code Integer.MAX_VALUE}
         * @return this builder
         */
        public Builder setSize(long size) {
            this.size = size;
            return this;
        }

        /**
         * Sets the image size (default 64×64; the paper uses 512×512).
         *
         * @param height the height in pixels, positive
         * @param width the width in pixels, positive
         * @return this builder
         */
        public Builder optResolution(int height, int width) {
            this.height = height;
            this.width = width;
            return this;
        }

        /**
         * Sets the number of image channels the mask is copied to (default 3).
         *
         * @param channels a positive number
         * @return this builder
         */
        public Builder optChannels(int channels) {
            this.channels = channels;
            return this;
        }

        /**
         * Sets the number of polygon types: {@code k} vertices for {@code k} in {@code 3 .. shapes
         * + 2}, label {@code k - 2} (default 1: triangles, labels 0 and 1).
         *
         * @param shapes a positive number
         * @return this builder
         */
        public Builder optShapes(int shapes) {
            this.shapes = shapes;
            return this;
        }

        /**
         * Sets the standard deviation of the vertices' radii around {@code r}, in pixels (default
         * {@code 5 · H / 512}: the original's 5 pixels at its 512×512, scaled to the image).
         *
         * @param irregularity a non-negative number of pixels
         * @return this builder
         */
        public Builder optIrregularity(double irregularity) {
            this.irregularity = irregularity;
            return this;
        }

        /**
         * Sets the noise standard deviation, relative to the mask's 0/1 (default 0).
         *
         * @param sigma a non-negative number
         * @return this builder
         */
        public Builder optSigma(float sigma) {
            this.sigma = sigma;
            return this;
        }

        /**
         * Sets the seed of geometry and noise (default 0).
         *
         * @param seed any number
         * @return this builder
         */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Sets whether every read draws new noise (default true, as the original) or each image
         * keeps one noise draw (false, for test sets).
         *
         * @param freshNoise true for new noise at every read
         * @return this builder
         */
        public Builder optFreshNoise(boolean freshNoise) {
            this.freshNoise = freshNoise;
            return this;
        }

        /**
         * Sets whether labels are one-hot {@code (shapes + 1, H, W)} float32 (the original's) or
         * class indices {@code (1, H, W)} int64 (default).
         *
         * @param oneHot true for one-hot labels
         * @return this builder
         */
        public Builder optOneHotLabels(boolean oneHot) {
            this.oneHot = oneHot;
            return this;
        }

        /**
         * Builds the data set.
         *
         * @return a new {@link Polygons}
         * @throws IllegalArgumentException naming the setting, its value and what is valid
         */
        public Polygons build() {
            if (size < 1 || size > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(
                        "size must be set (setSize) to 1 .. "
                                + Integer.MAX_VALUE
                                + ", got "
                                + size);
            }
            if (height < 1 || width < 1) {
                throw new IllegalArgumentException(
                        "resolution must be positive, got " + height + "x" + width);
            }
            if (channels < 1) {
                throw new IllegalArgumentException("channels must be positive, got " + channels);
            }
            if (shapes < 1) {
                throw new IllegalArgumentException("shapes must be positive, got " + shapes);
            }
            if (!(sigma >= 0) || Float.isInfinite(sigma)) {
                throw new IllegalArgumentException("sigma must be >= 0 and finite, got " + sigma);
            }
            if (!Double.isNaN(irregularity)
                    && (!(irregularity >= 0) || Double.isInfinite(irregularity))) {
                throw new IllegalArgumentException(
                        "irregularity must be >= 0 and finite, got " + irregularity);
            }
            return new Polygons(this);
        }
    }
}
