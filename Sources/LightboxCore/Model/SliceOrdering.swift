/// Orders the instances of a series for display.
public enum SliceOrdering {
    /// Along the slice normal (ImagePositionPatient projected on the cross product of the
    /// orientation vectors) when every instance has position and orientation, else by
    /// InstanceNumber; ties and unknowns by path, so the order is stable.
    public static func ordered(_ instances: [InstanceEntry]) -> [InstanceEntry] {
        if let normal = commonNormal(instances) {
            let keyed = instances.map { instance -> (Double, InstanceEntry) in
                let position = instance.header.imagePositionPatient ?? [0, 0, 0]
                return (position[0] * normal[0] + position[1] * normal[1] + position[2] * normal[2], instance)
            }
            return keyed.sorted { ($0.0, $0.1.path) < ($1.0, $1.1.path) }.map(\.1)
        }
        return instances.sorted {
            ($0.header.instanceNumber ?? Int.max, $0.path) < ($1.header.instanceNumber ?? Int.max, $1.path)
        }
    }

    /// The slice normal shared by all instances, or nil when any lacks geometry.
    static func commonNormal(_ instances: [InstanceEntry]) -> [Double]? {
        guard instances.count > 1 else { return nil }
        var normal: [Double]?
        for instance in instances {
            guard let orientation = instance.header.imageOrientationPatient, orientation.count == 6,
                  let position = instance.header.imagePositionPatient, position.count == 3 else { return nil }
            if normal == nil {
                let row = Array(orientation[0..<3]), column = Array(orientation[3..<6])
                normal = [
                    row[1] * column[2] - row[2] * column[1],
                    row[2] * column[0] - row[0] * column[2],
                    row[0] * column[1] - row[1] * column[0],
                ]
            }
        }
        guard let found = normal, found.contains(where: { $0 != 0 }) else { return nil }
        return found
    }
}
