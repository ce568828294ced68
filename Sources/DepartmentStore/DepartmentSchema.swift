/// The department ledger's schema in PostgreSQL, as versioned migrations `department init` applies
/// in order (each once; re-running init is harmless). Readers append only through
/// `lightbox.append`, which runs with the owner's rights and a fixed search_path, takes the chain
/// head row FOR UPDATE, computes the SHA-256 link on the server (the same rule as `AuditChain`),
/// and stamps `session_user` as the reader. Unique keys on sequence and on previous hash make a
/// fork a loud error; triggers refuse UPDATE, DELETE and TRUNCATE of the chain for everyone;
/// row-level security shows a reader their own rows and an auditor all.
public enum DepartmentSchema {
    /// The schema version this build writes and reads.
    public static let version = 2

    /// The group roles readers and auditors are members of.
    public static let readerRole = "lightbox_reader"
    public static let auditorRole = "lightbox_auditor"

    static let migrations: [(Int, String)] = [(1, v1), (2, v2)]

    /// How long a claim on a study lasts unless renewed (the reviewer renews it while the study is open).
    public static let claimSeconds = 120

    static let bootstrap = """
        CREATE SCHEMA IF NOT EXISTS lightbox;
        CREATE TABLE IF NOT EXISTS lightbox.schema_version (
            version integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        REVOKE ALL ON SCHEMA lightbox FROM PUBLIC;
        """

    /// Version 1's append function, as it was applied.
    static let v1AppendFunctionSQL = """
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

        \(v1AppendFunctionSQL)
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

    /// The chain's one writer and the readers' one way in (also the text a test copies, without
    /// the head row lock, for a control run). `chain_append` is the owner's: it links a row to the
    /// head under the lock, returns the first receipt for a retried decision and refuses the same
    /// id with another content. `append` is the readers': it stamps `session_user` and now, and
    /// refuses a decision on a study someone else is reading.
    public static let appendFunctionSQL = """
        CREATE OR REPLACE FUNCTION lightbox.chain_append(p_event text, p_subject text, p_payload text, p_decision_id text, p_study text,
                                                         p_reader name, p_at timestamptz)
        RETURNS TABLE (sequence bigint, hash text, inserted boolean)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = lightbox, pg_temp AS $$
        DECLARE
            head_sequence bigint;
            head_hash text;
            next_hash text;
            earlier record;
        BEGIN
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
            INSERT INTO lightbox.audit (sequence, event, subject, payload, previous_hash, hash, reader, recorded_at)
                VALUES (head_sequence + 1, p_event, p_subject, p_payload, head_hash, next_hash, coalesce(p_reader, session_user), coalesce(p_at, clock_timestamp()));
            IF p_decision_id IS NOT NULL THEN
                INSERT INTO lightbox.decisions (id, audit_sequence, study_uid, reader, payload)
                    VALUES (p_decision_id, head_sequence + 1, p_study, coalesce(p_reader, session_user), p_payload);
            END IF;
            UPDATE lightbox.chain_head SET sequence = head_sequence + 1, hash = next_hash WHERE id;
            RETURN QUERY SELECT head_sequence + 1, next_hash, true;
        END $$;

        CREATE OR REPLACE FUNCTION lightbox.append(p_event text, p_subject text, p_payload text, p_decision_id text, p_study text)
        RETURNS TABLE (sequence bigint, hash text, inserted boolean)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = lightbox, pg_temp AS $$
        DECLARE
            holder name;
        BEGIN
            IF p_decision_id IS NOT NULL AND (p_payload::jsonb ->> 'reader') IS DISTINCT FROM session_user::text THEN
                RAISE EXCEPTION 'a decision by "%" cannot be recorded by "%": readers record only their own decisions',
                    p_payload::jsonb ->> 'reader', session_user USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF p_decision_id IS NOT NULL AND NOT pg_has_role(session_user, '\(readerRole)', 'MEMBER') THEN
                RAISE EXCEPTION '"%" is an auditor: auditors record events (acknowledgements, exports), not decisions', session_user
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF p_decision_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM lightbox.decisions d WHERE d.id = p_decision_id) THEN
                SELECT c.reader INTO holder FROM lightbox.claims c
                    WHERE c.study_uid = p_study AND c.reader <> session_user AND c.expires_at > clock_timestamp();
                IF FOUND THEN
                    RAISE EXCEPTION 'this study is being read by %: a decision on it is refused while their claim lasts', holder
                        USING ERRCODE = 'lock_not_available';
                END IF;
            END IF;
            RETURN QUERY SELECT * FROM lightbox.chain_append(p_event, p_subject, p_payload, p_decision_id, p_study, session_user, clock_timestamp());
        END $$;
        """

    /// Version 2: reading together (claims: not decisions, not chained), moving a workstation's
    /// ledger in (owner only, keeping each decision's reader and time), and the shared analysis
    /// tables (result cache, case base, monitoring) every workstation of the department reads.
    static let v2 = """
        CREATE TABLE lightbox.claims (
            study_uid text PRIMARY KEY,
            reader name NOT NULL,
            claimed_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL
        );

        \(appendFunctionSQL)

        -- A claim: taken when nobody else holds a live one, renewed by its holder; else the holder is returned.
        CREATE FUNCTION lightbox.claim(p_study text, p_seconds integer)
        RETURNS TABLE (holder name, until timestamptz)
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = lightbox, pg_temp AS $$
        DECLARE
            got record;
        BEGIN
            IF p_seconds < 1 OR p_seconds > 86400 THEN
                RAISE EXCEPTION 'a claim lasts 1 to 86400 seconds, not %', p_seconds USING ERRCODE = 'invalid_parameter_value';
            END IF;
            INSERT INTO lightbox.claims AS c (study_uid, reader, claimed_at, expires_at)
                VALUES (p_study, session_user, clock_timestamp(), clock_timestamp() + make_interval(secs => p_seconds))
                ON CONFLICT (study_uid) DO UPDATE
                    SET reader = excluded.reader, expires_at = excluded.expires_at,
                        claimed_at = CASE WHEN c.reader = excluded.reader AND c.expires_at > clock_timestamp() THEN c.claimed_at ELSE excluded.claimed_at END
                    WHERE c.reader = excluded.reader OR c.expires_at <= clock_timestamp()
                RETURNING c.reader, c.expires_at INTO got;
            IF NOT FOUND THEN
                SELECT c.reader, c.expires_at INTO got FROM lightbox.claims c WHERE c.study_uid = p_study;
            END IF;
            RETURN QUERY SELECT got.reader, got.expires_at;
        END $$;

        CREATE FUNCTION lightbox.release(p_study text) RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = lightbox, pg_temp AS $$
            DELETE FROM lightbox.claims WHERE study_uid = p_study AND reader = session_user;
        $$;

        CREATE FUNCTION lightbox.live_claims() RETURNS TABLE (study text, holder name, until timestamptz)
        LANGUAGE sql SECURITY DEFINER SET search_path = lightbox, pg_temp AS $$
            SELECT study_uid, reader, expires_at FROM lightbox.claims WHERE expires_at > clock_timestamp() ORDER BY study_uid;
        $$;

        -- Department-wide figures (stats, monitoring) for everyone: every reader's decisions; for a
        -- reader, another reader's rows carry no name, patient ID or comment (an auditor sees all).
        CREATE FUNCTION lightbox.department_decisions() RETURNS TABLE (audit_sequence bigint, payload text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = lightbox, pg_temp AS $$
            SELECT d.audit_sequence,
                   CASE WHEN d.reader = session_user OR pg_has_role(session_user, '\(auditorRole)', 'MEMBER')
                             OR NOT pg_has_role(session_user, '\(readerRole)', 'MEMBER') THEN d.payload
                        ELSE (jsonb_set(jsonb_set(d.payload::jsonb, '{reader}', '"another reader"'), '{patientID}', '""') - 'comment')::text END
            FROM lightbox.decisions d ORDER BY d.audit_sequence;
        $$;

        CREATE TABLE lightbox.slice_results (
            sop_instance_uid text NOT NULL,
            frame integer NOT NULL,
            model text NOT NULL,
            probability double precision NOT NULL,
            heatmap_width integer NOT NULL,
            heatmap_height integer NOT NULL,
            heatmap bytea NOT NULL,
            embedding bytea NOT NULL,
            input_mean double precision, input_sd double precision, input_p1 double precision, input_p99 double precision,
            input_saturated double precision,
            -- Who computed it (a reader's workstation): the shared cache is working data, so it says whose.
            computed_by name NOT NULL DEFAULT session_user,
            PRIMARY KEY (sop_instance_uid, frame, model)
        );
        CREATE TABLE lightbox.cases (
            study_uid text NOT NULL,
            model text NOT NULL,
            embedding bytea NOT NULL,
            label text NOT NULL,
            decision text,
            date text NOT NULL,
            source text NOT NULL,
            summary text NOT NULL,
            computed_by name NOT NULL DEFAULT session_user,
            PRIMARY KEY (study_uid, model)
        );
        CREATE TABLE lightbox.monitoring_studies (
            study_key text NOT NULL,
            model text NOT NULL,
            site text NOT NULL,
            analysed_at double precision NOT NULL,
            manufacturer text, scanner_model text, software text, station text, kernel text, body_part text,
            kvp double precision, slice_thickness double precision, pixel_spacing double precision, exposure double precision,
            input_mean double precision, input_sd double precision, input_p1 double precision, input_p99 double precision,
            input_saturated double precision,
            raw_score double precision NOT NULL, probability double precision NOT NULL, tier text NOT NULL, out_of_domain boolean NOT NULL,
            domain_distance double precision, images integer NOT NULL,
            computed_by name NOT NULL DEFAULT session_user,
            PRIMARY KEY (study_key, model)
        );
        CREATE INDEX monitoring_by_model_time ON lightbox.monitoring_studies (model, analysed_at);
        CREATE TABLE lightbox.monitoring_references (
            model text PRIMARY KEY,
            from_time double precision NOT NULL,
            to_time double precision NOT NULL,
            basis text NOT NULL
        );

        REVOKE ALL ON lightbox.claims, lightbox.slice_results, lightbox.cases, lightbox.monitoring_studies, lightbox.monitoring_references FROM PUBLIC;
        REVOKE ALL ON FUNCTION lightbox.chain_append(text, text, text, text, text, name, timestamptz) FROM PUBLIC;
        REVOKE ALL ON FUNCTION lightbox.claim(text, integer), lightbox.release(text), lightbox.live_claims(), lightbox.department_decisions() FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION lightbox.claim(text, integer), lightbox.release(text), lightbox.live_claims() TO \(readerRole), \(auditorRole);
        GRANT EXECUTE ON FUNCTION lightbox.department_decisions() TO \(readerRole), \(auditorRole);
        -- Auditors record events (an acknowledgement, an export), never decisions (append refuses them).
        GRANT EXECUTE ON FUNCTION lightbox.append(text, text, text, text, text) TO \(auditorRole);
        -- The analysis tables are shared working data, not the record: readers add and refresh them.
        GRANT SELECT, INSERT, UPDATE ON lightbox.slice_results, lightbox.cases, lightbox.monitoring_studies TO \(readerRole);
        GRANT SELECT ON lightbox.slice_results, lightbox.cases, lightbox.monitoring_studies, lightbox.monitoring_references TO \(auditorRole);
        -- A model's reference period is frozen by whoever first reads a complete one (moving it is an audit event).
        GRANT SELECT, INSERT, UPDATE ON lightbox.monitoring_references TO \(readerRole), \(auditorRole);
        """
}
