/// The department ledger's schema in PostgreSQL, as versioned migrations `department init` applies
/// in order (each once; re-running init is harmless). Readers append only through
/// `lightbox.append`, which runs with the owner's rights and a fixed search_path, takes the chain
/// head row FOR UPDATE, computes the SHA-256 link on the server (the same rule as `AuditChain`),
/// and stamps `session_user` as the reader. Unique keys on sequence and on previous hash make a
/// fork a loud error; triggers refuse UPDATE, DELETE and TRUNCATE of the chain for everyone;
/// row-level security shows a reader their own rows and an auditor all.
public enum DepartmentSchema {
    /// The schema version this build writes and reads.
    public static let version = 1

    /// The group roles readers and auditors are members of.
    public static let readerRole = "lightbox_reader"
    public static let auditorRole = "lightbox_auditor"

    static let migrations: [(Int, String)] = [(1, v1)]

    static let bootstrap = """
        CREATE SCHEMA IF NOT EXISTS lightbox;
        CREATE TABLE IF NOT EXISTS lightbox.schema_version (
            version integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        REVOKE ALL ON SCHEMA lightbox FROM PUBLIC;
        """

    /// The append function (also the text a test copies, without its lock, for a control run).
    public static let appendFunctionSQL = """
        -- The one way in. A decision (p_decision_id set) must carry the caller as its reader.
        CREATE FUNCTION lightbox.append(p_event text, p_subject text, p_payload text, p_decision_id text, p_study text)
        RETURNS TABLE (sequence bigint, hash text, inserted boolean)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = lightbox, pg_temp AS $$
        DECLARE
            head_sequence bigint;
            head_hash text;
            next_hash text;
            earlier record;
        BEGIN
            IF p_decision_id IS NOT NULL AND (p_payload::jsonb ->> 'reader') IS DISTINCT FROM session_user::text THEN
                RAISE EXCEPTION 'a decision by "%" cannot be recorded by "%": readers record only their own decisions',
                    p_payload::jsonb ->> 'reader', session_user USING ERRCODE = 'insufficient_privilege';
            END IF;
            -- Every append waits here for the one before it: the chain cannot fork.
            SELECT h.sequence, h.hash INTO head_sequence, head_hash FROM lightbox.chain_head h WHERE h.id FOR UPDATE;
            IF p_decision_id IS NOT NULL THEN
                SELECT d.audit_sequence, a.hash AS audit_hash, d.payload INTO earlier
                    FROM lightbox.decisions d JOIN lightbox.audit a ON a.sequence = d.audit_sequence WHERE d.id = p_decision_id;
                IF FOUND THEN
                    IF earlier.payload = p_payload THEN
                        RETURN QUERY SELECT earlier.audit_sequence, earlier.audit_hash, false;
                        RETURN;
                    END IF;
                    RAISE EXCEPTION 'decision % was already recorded with another content', p_decision_id USING ERRCODE = 'unique_violation';
                END IF;
            END IF;
            next_hash := encode(sha256(convert_to(head_hash || E'\\n' || (head_sequence + 1)::text || E'\\n' || p_event || E'\\n'
                                                  || p_subject || E'\\n' || p_payload, 'UTF8')), 'hex');
            INSERT INTO lightbox.audit (sequence, event, subject, payload, previous_hash, hash)
                VALUES (head_sequence + 1, p_event, p_subject, p_payload, head_hash, next_hash);
            IF p_decision_id IS NOT NULL THEN
                INSERT INTO lightbox.decisions (id, audit_sequence, study_uid, reader, payload)
                    VALUES (p_decision_id, head_sequence + 1, p_study, session_user, p_payload);
            END IF;
            UPDATE lightbox.chain_head SET sequence = head_sequence + 1, hash = next_hash WHERE id;
            RETURN QUERY SELECT head_sequence + 1, next_hash, true;
        END $$;
        """

    static let v1 = """
        -- Roles belong to the whole server: another database's init may create them at the same moment.
        DO $$ BEGIN
            BEGIN CREATE ROLE \(readerRole) NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
            BEGIN CREATE ROLE \(auditorRole) NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
        END $$;

        CREATE TABLE lightbox.chain_head (
            id boolean PRIMARY KEY DEFAULT true CHECK (id),
            sequence bigint NOT NULL,
            hash text NOT NULL
        );
        INSERT INTO lightbox.chain_head (id, sequence, hash) VALUES (true, 0, repeat('0', 64));

        CREATE TABLE lightbox.audit (
            sequence bigint PRIMARY KEY,
            event text NOT NULL,
            subject text NOT NULL,
            payload text NOT NULL,
            previous_hash text NOT NULL UNIQUE,
            hash text NOT NULL UNIQUE,
            reader name NOT NULL DEFAULT session_user,
            recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        CREATE TABLE lightbox.decisions (
            id text PRIMARY KEY,
            audit_sequence bigint NOT NULL UNIQUE REFERENCES lightbox.audit (sequence),
            study_uid text NOT NULL,
            reader name NOT NULL,
            payload text NOT NULL
        );
        CREATE INDEX decisions_by_study ON lightbox.decisions (study_uid);

        CREATE FUNCTION lightbox.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the % table is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON lightbox.audit FOR EACH ROW EXECUTE FUNCTION lightbox.refuse_change();
        CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON lightbox.audit FOR EACH STATEMENT EXECUTE FUNCTION lightbox.refuse_change();
        CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON lightbox.decisions FOR EACH ROW EXECUTE FUNCTION lightbox.refuse_change();
        CREATE TRIGGER decisions_no_truncate BEFORE TRUNCATE ON lightbox.decisions FOR EACH STATEMENT EXECUTE FUNCTION lightbox.refuse_change();
        CREATE TRIGGER head_not_removed BEFORE DELETE ON lightbox.chain_head FOR EACH ROW EXECUTE FUNCTION lightbox.refuse_change();
        CREATE TRIGGER head_no_truncate BEFORE TRUNCATE ON lightbox.chain_head FOR EACH STATEMENT EXECUTE FUNCTION lightbox.refuse_change();

        \(appendFunctionSQL)
        REVOKE ALL ON ALL TABLES IN SCHEMA lightbox FROM PUBLIC;
        REVOKE ALL ON FUNCTION lightbox.append(text, text, text, text, text) FROM PUBLIC;
        REVOKE ALL ON FUNCTION lightbox.refuse_change() FROM PUBLIC;
        GRANT USAGE ON SCHEMA lightbox TO \(readerRole), \(auditorRole);
        GRANT EXECUTE ON FUNCTION lightbox.append(text, text, text, text, text) TO \(readerRole);
        GRANT SELECT ON lightbox.audit, lightbox.decisions, lightbox.chain_head, lightbox.schema_version TO \(readerRole), \(auditorRole);

        ALTER TABLE lightbox.decisions ENABLE ROW LEVEL SECURITY;
        ALTER TABLE lightbox.audit ENABLE ROW LEVEL SECURITY;
        CREATE POLICY own_decisions ON lightbox.decisions FOR SELECT TO \(readerRole) USING (reader = session_user);
        CREATE POLICY all_decisions ON lightbox.decisions FOR SELECT TO \(auditorRole) USING (true);
        CREATE POLICY own_audit ON lightbox.audit FOR SELECT TO \(readerRole) USING (reader = session_user);
        CREATE POLICY all_audit ON lightbox.audit FOR SELECT TO \(auditorRole) USING (true);
        """
}
