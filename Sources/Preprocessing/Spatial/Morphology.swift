/// Binary morphology and connected components on a 3-D grid with 6-connectivity (face
/// neighbours), as scipy.ndimage's defaults (`generate_binary_structure(3, 1)`, border 0).
public enum Morphology {
    /// Erosion repeated `iterations` times; voxels outside the grid count as background.
    public static func erode(_ mask: [Bool], shape: [Int], iterations: Int = 1) -> [Bool] {
        var current = mask
        for _ in 0..<iterations { current = step(current, shape: shape, erode: true) }
        return current
    }

    /// Dilation repeated `iterations` times.
    public static func dilate(_ mask: [Bool], shape: [Int], iterations: Int = 1) -> [Bool] {
        var current = mask
        for _ in 0..<iterations { current = step(current, shape: shape, erode: false) }
        return current
    }

    private static func step(_ mask: [Bool], shape: [Int], erode: Bool) -> [Bool] {
        let (nx, ny, nz) = (shape[0], shape[1], shape[2])
        var result = mask
        for k in 0..<nz {
            for j in 0..<ny {
                for i in 0..<nx {
                    let index = i + nx * (j + ny * k)
                    if erode {
                        guard mask[index] else { continue }
                        let inside = i > 0 && i < nx - 1 && j > 0 && j < ny - 1 && k > 0 && k < nz - 1
                        if !inside || !mask[index - 1] || !mask[index + 1] || !mask[index - nx] || !mask[index + nx]
                            || !mask[index - nx * ny] || !mask[index + nx * ny] {
                            result[index] = false
                        }
                    } else {
                        guard !mask[index] else { continue }
                        if (i > 0 && mask[index - 1]) || (i < nx - 1 && mask[index + 1]) || (j > 0 && mask[index - nx])
                            || (j < ny - 1 && mask[index + nx]) || (k > 0 && mask[index - nx * ny]) || (k < nz - 1 && mask[index + nx * ny]) {
                            result[index] = true
                        }
                    }
                }
            }
        }
        return result
    }

    /// Labels of the 6-connected components (0 = background, components numbered from 1 in
    /// the order their first voxel appears) and their count.
    public static func components(_ mask: [Bool], shape: [Int]) -> (labels: [Int32], count: Int) {
        let (nx, ny, nz) = (shape[0], shape[1], shape[2])
        var labels = [Int32](repeating: 0, count: mask.count)
        var count: Int32 = 0
        var stack: [Int] = []
        for start in mask.indices where mask[start] && labels[start] == 0 {
            count += 1
            labels[start] = count
            stack.append(start)
            while let index = stack.popLast() {
                let i = index % nx, j = (index / nx) % ny, k = index / (nx * ny)
                var neighbours: [Int] = []
                if i > 0 { neighbours.append(index - 1) }
                if i < nx - 1 { neighbours.append(index + 1) }
                if j > 0 { neighbours.append(index - nx) }
                if j < ny - 1 { neighbours.append(index + nx) }
                if k > 0 { neighbours.append(index - nx * ny) }
                if k < nz - 1 { neighbours.append(index + nx * ny) }
                for neighbour in neighbours where mask[neighbour] && labels[neighbour] == 0 {
                    labels[neighbour] = count
                    stack.append(neighbour)
                }
            }
        }
        return (labels, Int(count))
    }

    /// The largest 6-connected component (the first one on ties, as numpy's argmax).
    public static func largestComponent(_ mask: [Bool], shape: [Int]) -> [Bool] {
        let (labels, count) = components(mask, shape: shape)
        guard count > 1 else { return mask }
        var sizes = [Int](repeating: 0, count: count + 1)
        for label in labels where label > 0 { sizes[Int(label)] += 1 }
        sizes[0] = 0
        let largest = sizes.indices.max { sizes[$0] < sizes[$1] || (sizes[$0] == sizes[$1] && $0 > $1) } ?? 1
        return labels.map { Int($0) == largest }
    }
}
