package dfbmodels.state;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.initializer.Initializer;

/**
 * Initialises a matrix with orthonormal rows or columns, like {@code torch.nn.init.orthogonal_}:
 * the QR decomposition of a standard-normal matrix (transposed when it is wide), with {@code Q}'s
 * columns multiplied by the signs of {@code R}'s diagonal so the result is uniformly distributed.
 * Draws from DJL's random generator, so {@code Engine#setRandomSeed} makes it reproducible.
 */
public class OrthogonalInitializer implements Initializer {

    /** {@inheritDoc} */
    @Override
    public NDArray initialize(NDManager manager, Shape shape, DataType dataType) {
        if (shape.dimension() < 2) {
            throw new IllegalArgumentException(
                    "orthogonal initialisation needs at least 2 dimensions, got shape " + shape);
        }
        long rows = shape.get(0);
        long cols = shape.size() / rows;
        boolean wide = rows < cols;
        try (NDManager scratch = manager.newSubManager()) {
            NDArray flat = scratch.randomNormal(0f, 1f, new Shape(rows, cols), dataType);
            if (wide) {
                flat = flat.transpose();
            }
            NDList qr = QrDecomposition.qr(flat);
            NDArray r = qr.get(1);
            // diag(R) without NDArray#diagonal, which DJL 0.33 (the last release with a CUDA
            // LibTorch on Maven Central) lacks
            long n = r.getShape().get(0);
            NDArray diag = r.mul(scratch.eye((int) n).toType(dataType, false)).sum(new int[] {0});
            NDArray q = qr.get(0).mul(diag.sign());
            if (wide) {
                q = q.transpose();
            }
            NDArray result = q.reshape(shape);
            result.attach(manager);
            return result;
        }
    }
}
